"""Webhooks from telephony (implemented in its own module)."""

urlpatterns: list = []
