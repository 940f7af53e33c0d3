from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Templates, journeys, cascades, promo codes and loyalty (later issues)."""

    name = "campaigns"
