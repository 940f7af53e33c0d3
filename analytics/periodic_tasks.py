from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Attribution: redo the orders written or touched since the last run",
        task="analytics.tasks.attribution_refresh",
        every_seconds=60,
    ),
    PeriodicJob(
        name="Analytics: check goals' progress, alert those off track",
        task="analytics.tasks.goals_check",
        crontab="7 * * * *",
    ),
    PeriodicJob(
        name="Recompute the analytics rollups of days touched by new data",
        task="analytics.tasks.rollups_refresh",
        every_seconds=300,
    ),
]
