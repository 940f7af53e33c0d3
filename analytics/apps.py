from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Surveys, metrics, attribution and dashboards."""

    name = "analytics"

    def ready(self) -> None:
        from analytics.attribution.receivers import attribution_receivers_connect
        from analytics.surveys import tasks, timeline_sources  # noqa: F401  tasks: registers them
        from analytics.surveys.replies import survey_inbound_handle
        from channels.listeners import on_inbound

        timeline_sources.register()
        # Chat answers (a digit, then the comment) arrive through channels' inbound pipeline.
        on_inbound(survey_inbound_handle)
        # Orders written and messages opened or clicked queue orders for re-attribution.
        attribution_receivers_connect()

        # Surveys in journeys, broadcasts and after closed conversations (campaigns' registry,
        # channels' conversation-closed listener).
        from analytics.surveys.integrations import integrations_register

        integrations_register()

        from analytics.rollups.marks import rollups_hooks_connect

        rollups_hooks_connect()
