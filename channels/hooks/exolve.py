"""Webhooks from exolve (implemented in its own module)."""

urlpatterns: list = []
