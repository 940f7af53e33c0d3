from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Expire loyalty points and warn before they expire",
        task="campaigns.loyalty.tasks.points_nightly",
        crontab="15 3 * * *",
    ),
]
