"""Celery tasks for analytics: thin wrappers that call one service."""

from celery import shared_task


@shared_task
def rollups_refresh() -> dict:
    """Recompute the rollups of the days (and customers) writes marked dirty."""
    from analytics.rollups.refresh import rollups_refresh as refresh

    return refresh().as_dict()
