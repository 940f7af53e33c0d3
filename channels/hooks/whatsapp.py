"""Webhooks from whatsapp (implemented in its own module)."""

urlpatterns: list = []
