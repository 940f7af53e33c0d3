"""Webhooks from twilio (implemented in its own module)."""

urlpatterns: list = []
