from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Recompute everyone's recommendations nightly",
        task="campaigns.recommendations.tasks.refresh_recommendations",
        crontab="0 3 * * *",
    ),
]
