"""API: messages (placeholder until the messages API lands in this module)."""

urlpatterns: list = []
