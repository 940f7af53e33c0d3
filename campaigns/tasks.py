"""Celery finds tasks in <app>.tasks: the campaigns subpackages' tasks are imported here."""

from campaigns.recommendations.tasks import refresh_recommendations  # noqa: F401
