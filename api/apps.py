from django.apps import AppConfig


class ApiConfig(AppConfig):
    """API plumbing shared by every app: keys, scopes, throttling, idempotency, error format."""

    name = "api"
    verbose_name = "API access"

    def ready(self) -> None:
        from api import schema  # noqa: F401  registers the OpenAPI description of API keys
