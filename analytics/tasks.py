"""Analytics' Celery tasks: thin wrappers over the services (each area adds its own below)."""

from celery import shared_task

from analytics.clv.tasks import clv_refresh  # noqa: F401
from analytics.goals.service import goals_check_all


@shared_task(name="analytics.tasks.goals_check")
def goals_check() -> dict:
    """Recompute every open goal's progress; alert the ones that went off track."""
    return {"goals_checked": goals_check_all()}


@shared_task(name="analytics.tasks.attribution_refresh", ignore_result=True)
def attribution_refresh() -> int:
    from analytics.attribution.services import attribution_refresh as refresh

    return refresh()


@shared_task(name="analytics.tasks.attribution_rebuild", ignore_result=True)
def attribution_rebuild() -> int:
    """After a channel's rule changed: every order again."""
    from analytics.attribution.services import attribution_rebuild as rebuild

    return rebuild()


@shared_task(name="analytics.tasks.rollups_refresh")
def rollups_refresh() -> dict:
    """Recompute the rollups of the days (and customers) writes marked dirty."""
    from analytics.rollups.refresh import rollups_refresh as refresh

    return refresh().as_dict()
