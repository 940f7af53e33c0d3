from api.periodic import PeriodicJob
from campaigns.promo.periodic_tasks import PROMO_PERIODIC_TASKS

PERIODIC_TASKS = [
    PeriodicJob(
        name="Expire loyalty points and warn before they expire",
        task="campaigns.loyalty.tasks.points_nightly",
        crontab="15 3 * * *",
    ),
    *PROMO_PERIODIC_TASKS,
    PeriodicJob(
        name="Broadcasts: launch due ones, end A/B tests, refresh results",
        task="campaigns.broadcasts.tasks.broadcasts_tick",
        crontab="* * * * *",
    ),
    PeriodicJob(
        name="Journeys: start scheduled runs, advance runs whose wait is over",
        task="campaigns.journeys.tasks.journeys_tick",
        every_seconds=5,
        queue="journeys",
    ),
    PeriodicJob(
        name="Recompute everyone's recommendations nightly",
        task="campaigns.recommendations.tasks.refresh_recommendations",
        crontab="0 3 * * *",
    ),
]
