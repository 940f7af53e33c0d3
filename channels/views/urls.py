"""The channels app's own workspace pages, under /app/ (see config/urls.py)."""

from django.urls import path  # noqa: F401  (the pages add their routes below)

app_name = "channels"

urlpatterns = [
    # Inbox (/app/inbox…) and canned responses.
    # Messages (/app/messages…), the sandbox outbox and message previews.
]
