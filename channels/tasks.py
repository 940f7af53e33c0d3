"""Celery tasks for channels: thin wrappers that take ids and call one service."""

from dataclasses import asdict

from celery import shared_task

from channels.services.delivery import messages_deliver, messages_sweep


@shared_task(acks_late=True)
def deliver_messages(message_ids: list[int]) -> dict:
    """Send a chunk of queued messages (see channels.services.delivery)."""
    report = messages_deliver(message_ids)
    return {k: v for k, v in asdict(report).items() if k != "later"} | {
        "deferred": len(report.later)
    }


@shared_task
def sweep_messages() -> int:
    """Re-enqueue queued messages lost to a broker outage or a killed worker, and release the
    ones whose quiet hours or backoff have ended."""
    return messages_sweep()


@shared_task
def settle_unconfirmed_messages() -> dict:
    """Ask gateways with a status lookup what became of their unconfirmed messages."""
    from channels.services.unconfirmed import messages_settle_unconfirmed

    return messages_settle_unconfirmed()


@shared_task(acks_late=True)
def deliver_webhook(delivery_id: int) -> str:
    """POST one outbound webhook to the CRM; failures are retried by the webhook sweeper."""
    from channels.services.webhooks_out import webhook_deliver

    return webhook_deliver(delivery_id=delivery_id)


@shared_task
def sweep_webhooks() -> int:
    """Send outbound webhooks whose retry time has come."""
    from channels.services.webhooks_out import webhooks_sweep

    return webhooks_sweep()


@shared_task
def wake_snoozed_conversations() -> int:
    """Put conversations whose snooze has ended back in the open lists."""
    from channels.services.inbox import conversations_wake

    return conversations_wake()
