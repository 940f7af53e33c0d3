"""Celery tasks of the analytics app: each area's tasks, imported so autodiscovery finds them."""

from analytics.clv.tasks import clv_refresh  # noqa: F401
