from api.periodic import PeriodicJob

PERIODIC_TASKS = [
    PeriodicJob(
        name="Attribution: redo the orders written or touched since the last run",
        task="analytics.tasks.attribution_refresh",
        every_seconds=60,
    ),
    PeriodicJob(
        name="CLV: fit BG/NBD and Gamma-Gamma, score every customer nightly",
        task="analytics.clv.tasks.clv_refresh",
        # After RFM (02:30) and before the 03:00 jobs' peak; a few minutes at a million customers.
        crontab="45 2 * * *",
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
