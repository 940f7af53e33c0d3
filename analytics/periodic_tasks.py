from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Analytics: check goals' progress, alert those off track",
        task="analytics.tasks.goals_check",
        crontab="7 * * * *",
    ),
]
