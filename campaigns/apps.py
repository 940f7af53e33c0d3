from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Templates, journeys, cascades, promo codes and loyalty (later issues)."""

    name = "campaigns"

    def ready(self) -> None:
        from campaigns.context import register_context_provider
        from campaigns.loyalty.context import points_context
        from campaigns.loyalty.services import points_events_ingested
        from campaigns.loyalty.tasks import points_orders_changed_hook
        from customers.hooks import on_events_ingested, on_orders_changed

        register_context_provider("points", points_context)
        on_orders_changed(points_orders_changed_hook)
        on_events_ingested(points_events_ingested)
        from campaigns.promo.context import promo_context
        from campaigns.promo.receivers import promo_receivers_connect

        register_context_provider("promo", promo_context)
        promo_receivers_connect()
        from campaigns.recommendations.selectors import recommendations_context

        register_context_provider("recommendations", recommendations_context)
        from campaigns.journeys.receivers import journey_receivers_connect

        journey_receivers_connect()
        from campaigns.journeys.timeline_sources import register as register_journey_timeline

        register_journey_timeline()
