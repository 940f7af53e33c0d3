from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Providers, message lifecycle, webhooks and conversations (issue 4)."""

    name = "channels"
    label = "kaskad_channels"  # "channels" would clash with Django Channels if it is ever added
