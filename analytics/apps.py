from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards (later issues)."""

    name = "analytics"

    def ready(self) -> None:
        from analytics.attribution.receivers import attribution_receivers_connect

        attribution_receivers_connect()
