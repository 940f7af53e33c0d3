from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Providers, message lifecycle, webhooks, tracking and conversations."""

    name = "channels"
    label = "kaskad_channels"  # "channels" would clash with Django Channels if it is ever added

    def ready(self) -> None:
        from channels import timeline_sources

        timeline_sources.register()
