"""Webhooks from email (implemented in its own module)."""

urlpatterns: list = []
