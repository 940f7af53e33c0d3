from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Templates, journeys, cascades, promo codes and loyalty (later issues)."""

    name = "campaigns"

    def ready(self) -> None:
        from campaigns.context import register_context_provider
        from campaigns.recommendations.selectors import recommendations_context

        register_context_provider("recommendations", recommendations_context)
