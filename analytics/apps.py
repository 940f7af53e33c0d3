from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards."""

    name = "analytics"

    def ready(self) -> None:
        from analytics.surveys import timeline_sources
        from analytics.surveys.replies import survey_inbound_handle
        from channels.listeners import on_inbound

        timeline_sources.register()
        # Chat answers (a digit, then the comment) arrive through channels' inbound pipeline.
        on_inbound(survey_inbound_handle)

        # Surveys in journeys, broadcasts and after closed conversations (campaigns' registry,
        # channels' conversation-closed listener).
        from analytics.surveys.integrations import integrations_register

        integrations_register()
