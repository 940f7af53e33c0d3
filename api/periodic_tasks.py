from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Purge idempotency records older than 24 hours",
        task="api.tasks.purge_expired_idempotency_records",
        crontab="17 * * * *",
    ),
]
