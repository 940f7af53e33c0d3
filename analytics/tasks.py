"""Analytics' Celery tasks: thin wrappers over the services (each area adds its own below)."""

from celery import shared_task

from analytics.clv.tasks import clv_refresh  # noqa: F401
from analytics.goals.service import goals_check_all


@shared_task(name="analytics.tasks.goals_check")
def goals_check() -> dict:
    """Recompute every open goal's progress; alert the ones that went off track."""
    return {"goals_checked": goals_check_all()}
