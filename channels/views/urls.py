"""The channels app's own workspace pages, under /app/ (see config/urls.py)."""

from django.urls import path

from channels.views import canned, inbox, message_body, messages

app_name = "channels"

urlpatterns = [
    # Inbox (/app/inbox…) and canned responses.
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/list/", inbox.inbox_list, name="inbox_list"),
    path("inbox/<int:pk>/", inbox.conversation, name="inbox_conversation"),
    path("inbox/<int:pk>/thread/", inbox.conversation_thread, name="inbox_thread"),
    path("inbox/<int:pk>/reply/", inbox.conversation_reply_view, name="inbox_reply"),
    path("inbox/<int:pk>/assign/", inbox.conversation_assign_view, name="inbox_assign"),
    path("inbox/<int:pk>/snooze/", inbox.conversation_snooze_view, name="inbox_snooze"),
    path("inbox/<int:pk>/status/", inbox.conversation_status_view, name="inbox_status"),
    path("inbox/<int:pk>/note/", inbox.conversation_note_view, name="inbox_note"),
    path("inbox/canned/", canned.canned_index, name="canned"),
    path("inbox/canned/new/", canned.canned_edit, name="canned_new"),
    path("inbox/canned/<int:pk>/", canned.canned_edit, name="canned_edit"),
    path("inbox/canned/<int:pk>/delete/", canned.canned_delete_view, name="canned_delete"),
    # Messages (/app/messages…), the sandbox outbox and message previews.
    path("messages/", messages.message_log, name="messages"),
    path("messages/sandbox/", messages.sandbox, name="sandbox"),
    path("messages/<int:message_id>/", messages.message, name="message"),
    path("messages/<int:message_id>/body/", message_body.message_body, name="message_body"),
]
