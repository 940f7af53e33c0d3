"""The channels app's own workspace pages, under /app/ (see config/urls.py)."""

from django.urls import path

from channels.views import message_body, messages

app_name = "channels"

urlpatterns = [
    # Inbox (/app/inbox…) and canned responses.
    # Messages (/app/messages…), the sandbox outbox and message previews.
    path("messages/", messages.message_log, name="messages"),
    path("messages/sandbox/", messages.sandbox, name="sandbox"),
    path("messages/<int:message_id>/", messages.message, name="message"),
    path("messages/<int:message_id>/body/", message_body.message_body, name="message_body"),
]
