"""API: conversations."""

urlpatterns: list = []
