"""What an agent does in the inbox (/app/inbox): assign, snooze, close and reopen, private notes,
replies, and canned responses. Each action writes its audit entry in its own transaction.

Snoozing keeps the conversation's status (open or pending) and sets `snoozed_until`; the open
lists leave it out until then. The customer writing again wakes it at once
(`conversation_for_inbound`), and `conversations_wake()` (beat, every minute) clears past times;
the lists also treat a past `snoozed_until` as awake, so nobody waits for the beat.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.audit import audit_record
from api.models import AuditAction
from channels.models import CannedResponse, Conversation, ConversationNote, Message
from channels.services.conversations import conversation_reply, conversation_update


class InboxError(Exception):
    """An action that cannot be done as asked; the message is shown to the agent."""


def _audit(conversation: Conversation, actor, ip, before, after, action=None, object_type=""):
    audit_record(
        actor=actor,
        action=action or AuditAction.CONVERSATION_CHANGED,
        object_type=object_type or "conversation",
        object_id=conversation.pk,
        object_repr=f"conversation {conversation.pk}",
        customer_id=conversation.customer_id,
        before=before,
        after=after,
        ip_address=ip,
    )


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, actor, ip=None) -> Conversation:
    """Give the conversation to `assignee` (a staff user) or, with None, to nobody."""
    before = conversation.assignee.get_username() if conversation.assignee_id else None
    after = assignee.get_username() if assignee is not None else None
    if before == after:
        return conversation
    conversation = conversation_update(conversation=conversation, assignee=after)
    _audit(conversation, actor, ip, {"assignee": before}, {"assignee": after})
    return conversation


@transaction.atomic
def conversation_snooze(
    *, conversation: Conversation, until: datetime, actor, ip=None, now: datetime | None = None
) -> Conversation:
    """Hide an open or pending conversation from the open lists until `until` (in the future)."""
    now = now or timezone.now()
    if until <= now:
        raise InboxError(_("The snooze time must be in the future."))
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == Conversation.Status.RESOLVED:
        raise InboxError(_("A closed conversation cannot be snoozed."))
    before = conversation.snoozed_until
    conversation.snoozed_until = until
    conversation.save(update_fields=["snoozed_until"])
    _audit(
        conversation,
        actor,
        ip,
        {"snoozed_until": before.isoformat() if before else None},
        {"snoozed_until": until.isoformat()},
    )
    return conversation


@transaction.atomic
def conversation_set_status(
    *, conversation: Conversation, status: str, actor, ip=None
) -> Conversation:
    """Close (`resolved`) or reopen (`open`) a conversation; either ends a snooze."""
    if status not in (Conversation.Status.OPEN, Conversation.Status.RESOLVED):
        raise InboxError(_("Unknown status."))
    if status == Conversation.Status.OPEN and conversation.status == Conversation.Status.RESOLVED:
        active = (
            Conversation.objects.filter(
                customer_id=conversation.customer_id,
                channel=conversation.channel,
                status__in=(Conversation.Status.OPEN, Conversation.Status.PENDING),
            )
            .exclude(pk=conversation.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if active is not None:
            # Two active threads on one channel would split the customer's answers.
            raise InboxError(
                _("The customer has another open conversation on this channel; use that one.")
            )
    before = {"status": conversation.status}
    conversation = conversation_update(conversation=conversation, status=status)
    if conversation.snoozed_until is not None:
        before["snoozed_until"] = conversation.snoozed_until.isoformat()
        conversation.snoozed_until = None
        conversation.save(update_fields=["snoozed_until"])
    if before["status"] == conversation.status and len(before) == 1:
        return conversation
    _audit(conversation, actor, ip, before, {"status": conversation.status})
    return conversation


@transaction.atomic
def conversation_note_add(
    *, conversation: Conversation, body: str, actor, ip=None
) -> ConversationNote:
    """A private note in the thread: staff see it, the customer never does."""
    body = body.strip()
    if not body:
        raise InboxError(_("The note is empty."))
    note = ConversationNote.objects.create(conversation=conversation, author=actor, body=body)
    audit_record(
        actor=actor,
        action=AuditAction.NOTE_ADDED,
        object_type="conversation_note",
        object_id=note.pk,
        object_repr=f"note on conversation {conversation.pk}",
        customer_id=conversation.customer_id,
        after={"conversation": conversation.pk, "body": body[:200]},
        ip_address=ip,
    )
    return note


def inbox_reply(
    *, conversation: Conversation, body: str, actor, ip=None, subject: str = ""
) -> Message:
    """Send the agent's answer on the conversation's channel (`conversation_reply`, so consent
    and the WhatsApp window apply). A body that is just "/shortcode" sends that canned response."""
    body = canned_expand(body.strip())
    if not body:
        raise InboxError(_("The reply is empty."))
    from api.errors import ApiError

    try:
        with transaction.atomic():
            message = conversation_reply(
                conversation=conversation,
                body=body,
                subject=subject.strip(),
                agent=actor.get_username(),
            )
            audit_record(
                actor=actor,
                action=AuditAction.MESSAGE_SENT,
                object_type="message",
                object_id=message.pk,
                object_repr=f"reply in conversation {conversation.pk}",
                customer_id=conversation.customer_id,
                after={
                    "conversation": conversation.pk,
                    "channel": message.channel,
                    "status": message.status,
                },
                ip_address=ip,
            )
    except ApiError as error:  # conversation_superseded
        raise InboxError(
            _("The customer has since opened another conversation on this channel; reply there.")
        ) from error
    return message


def conversations_wake(now: datetime | None = None) -> int:
    """Clear snoozes whose time has come; returns how many conversations woke."""
    now = now or timezone.now()
    return Conversation.objects.filter(snoozed_until__isnull=False, snoozed_until__lte=now).update(
        snoozed_until=None
    )


# --- Canned responses -------------------------------------------------------------------------
def canned_expand(body: str) -> str:
    """ "/thanks" alone becomes the canned response with shortcode `thanks`; anything else stays."""
    if body.startswith("/") and " " not in body and "\n" not in body:
        canned = CannedResponse.objects.filter(shortcode=body[1:]).first()
        if canned is not None:
            return canned.body
    return body


@transaction.atomic
def canned_save(*, canned: CannedResponse, actor, ip=None, before: dict | None = None):
    """Create or change a canned response (the form has validated it)."""
    created = canned.pk is None
    canned.updated_at = timezone.now()
    if created:
        canned.created_by = actor
    canned.save()
    audit_record(
        actor=actor,
        action=AuditAction.SETTINGS_CHANGED,
        object_type="canned_response",
        object_id=canned.pk,
        object_repr=f"/{canned.shortcode}",
        before=None if created else before,
        after={"shortcode": canned.shortcode, "body": canned.body[:500]},
        ip_address=ip,
    )
    return canned


@transaction.atomic
def canned_delete(*, canned: CannedResponse, actor, ip=None) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.SETTINGS_CHANGED,
        object_type="canned_response",
        object_id=canned.pk,
        object_repr=f"/{canned.shortcode}",
        before={"shortcode": canned.shortcode, "body": canned.body[:500]},
        after=None,
        reason="deleted",
        ip_address=ip,
    )
    canned.delete()
