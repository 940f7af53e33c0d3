from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Compute RFM scores nightly",
        task="customers.tasks.compute_rfm_nightly",
        crontab="30 2 * * *",
    ),
    PeriodicJob(
        name="Refresh every dynamic segment",
        task="customers.tasks.refresh_all_segments",
        every_seconds=15 * 60,
    ),
]
