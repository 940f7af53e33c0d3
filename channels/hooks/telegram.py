"""Webhooks from telegram (implemented in its own module)."""

urlpatterns: list = []
