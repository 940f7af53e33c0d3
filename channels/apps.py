from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Providers, message lifecycle, webhooks, tracking and conversations."""

    name = "channels"
    label = "kaskad_channels"  # "channels" would clash with Django Channels if it is ever added

    def ready(self) -> None:
        from channels import timeline_sources
        from channels.services.webhooks_out import webhook_consent_changes_emit
        from channels.tracking import esp  # noqa: F401  connects anymail's `tracking` receiver
        from customers.services.consents import register_consent_listener

        timeline_sources.register()
        register_consent_listener(webhook_consent_changes_emit)
