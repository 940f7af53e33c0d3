from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards (later issues)."""

    name = "analytics"

    def ready(self) -> None:
        from analytics.rollups.marks import rollups_hooks_connect

        rollups_hooks_connect()
