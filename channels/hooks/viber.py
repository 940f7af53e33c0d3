"""Webhooks from viber (implemented in its own module)."""

urlpatterns: list = []
