from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards (later issues)."""

    name = "analytics"

    def ready(self) -> None:
        # Surveys in journeys, broadcasts and after closed conversations (campaigns' registry,
        # channels' conversation-closed listener).
        from analytics.surveys.integrations import integrations_register

        integrations_register()
