"""Celery tasks of analytics: each takes ids or nothing and calls one service."""

from celery import shared_task


@shared_task(name="analytics.tasks.attribution_refresh", ignore_result=True)
def attribution_refresh() -> int:
    from analytics.attribution.services import attribution_refresh as refresh

    return refresh()


@shared_task(name="analytics.tasks.attribution_rebuild", ignore_result=True)
def attribution_rebuild() -> int:
    """After a channel's rule changed: every order again."""
    from analytics.attribution.services import attribution_rebuild as rebuild

    return rebuild()
