from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards (later issues)."""

    name = "analytics"
