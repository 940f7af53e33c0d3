from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Send queued messages that are due or were lost",
        task="channels.tasks.sweep_messages",
        every_seconds=30,
    ),
    PeriodicJob(
        name="Settle unconfirmed messages from the gateways' status lookups",
        task="channels.tasks.settle_unconfirmed_messages",
        every_seconds=300,
    ),
    PeriodicJob(
        name="Retry outbound webhooks",
        task="channels.tasks.sweep_webhooks",
        every_seconds=30,
    ),
    PeriodicJob(
        name="Wake snoozed conversations",
        task="channels.tasks.wake_snoozed_conversations",
        every_seconds=60,
    ),
]
