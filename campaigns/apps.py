from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Templates, journeys, cascades, promo codes and loyalty (later issues)."""

    name = "campaigns"

    def ready(self) -> None:
        from campaigns.context import register_context_provider
        from campaigns.promo.context import promo_context
        from campaigns.promo.receivers import promo_receivers_connect

        register_context_provider("promo", promo_context)
        promo_receivers_connect()
