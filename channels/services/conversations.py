"""Conversations: two-way threads with a customer on one channel.

Lifecycle (see docs/channels-conversations.md):
- an inbound message extends the customer's open or pending conversation on that channel, else
  opens a new one; a pending one becomes open again (the customer answered, an agent must act);
- a resolved conversation is never extended by the customer: their next message opens a new one;
- an agent's reply to a resolved conversation reopens it as `pending` (waiting for the
  customer), unless the customer has since opened another one on that channel (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from api.errors import ApiError
from channels.listeners import conversation_closed
from channels.models import Conversation, InboundMessage, Message, MessageCategory, MessageSource
from channels.services.messages import message_send
from channels.services.webhooks_out import webhook_event_emit
from customers.models import Customer

ACTIVE_STATUSES = (Conversation.Status.OPEN, Conversation.Status.PENDING)
_UNCHANGED: Any = object()


# --- Reads --------------------------------------------------------------------------------------
def conversation_list() -> QuerySet[Conversation]:
    """All conversations, with what the inbox shows of each; the API filters them."""
    return Conversation.objects.select_related("customer", "assignee")


@dataclass(frozen=True)
class ThreadItem:
    direction: str  # "in" (the customer wrote) or "out" (we sent)
    id: int
    at: datetime
    body: str
    subject: str = ""
    source: str = ""  # out: agent, auto_reply, system, …
    status: str = ""  # out: the message's delivery status


def conversation_thread(conversation: Conversation) -> list[ThreadItem]:
    """The conversation's messages, in and out, oldest first."""
    inbound = [
        ThreadItem(direction="in", id=m.pk, at=m.received_at, body=m.body)
        for m in InboundMessage.objects.filter(conversation=conversation)
    ]
    outbound = [
        ThreadItem(
            direction="out",
            id=m.pk,
            at=m.queued_at,
            body=m.body,
            subject=m.subject,
            source=m.source,
            status=m.status,
        )
        for m in Message.objects.filter(conversation=conversation)
    ]
    # An answer stored in the same instant as the question sorts after it.
    return sorted(inbound + outbound, key=lambda item: (item.at, item.direction != "in", item.id))


def conversation_event_data(conversation: Conversation) -> dict[str, Any]:
    """What the `conversation.updated` webhook carries."""
    return {
        "id": conversation.pk,
        "customer": conversation.customer.external_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "assignee": conversation.assignee.get_username() if conversation.assignee else None,
        "opened_at": conversation.opened_at.isoformat(),
        "last_message_at": conversation.last_message_at.isoformat(),
        "resolved_at": conversation.resolved_at.isoformat() if conversation.resolved_at else None,
    }


# --- Writes -------------------------------------------------------------------------------------
def conversation_for_inbound(
    *, customer: Customer, channel: str, at: datetime
) -> tuple[Conversation, bool]:
    """The conversation an inbound message at `at` belongs to, and whether it changed status
    (opened, or pending → open). Must run inside the caller's transaction."""
    # Two messages from one customer arriving together must not open two conversations.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    conversation = (
        Conversation.objects.select_for_update()
        .filter(customer=customer, channel=channel, status__in=ACTIVE_STATUSES)
        .order_by("-last_message_at", "-pk")
        .first()
    )
    if conversation is None:
        conversation = Conversation.objects.create(
            customer=customer, channel=channel, opened_at=at, last_message_at=at
        )
        return conversation, True
    changed = conversation.status != Conversation.Status.OPEN
    conversation.status = Conversation.Status.OPEN
    conversation.last_message_at = max(conversation.last_message_at, at)
    conversation.snoozed_until = None  # the customer wrote: back in the open lists
    conversation.save(update_fields=["status", "last_message_at", "snoozed_until"])
    return conversation, changed


@transaction.atomic
def conversation_update(
    *, conversation: Conversation, status: str | None = None, assignee: Any = _UNCHANGED
) -> Conversation:
    """Change status and/or assignee (a username, or None to unassign). Emits
    `conversation.updated` when something changed."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    fields: list[str] = []
    if status is not None and status != conversation.status:
        conversation.status = status
        conversation.resolved_at = (
            timezone.now() if status == Conversation.Status.RESOLVED else None
        )
        fields += ["status", "resolved_at"]
    if assignee is not _UNCHANGED:
        user = _user(assignee) if assignee is not None else None
        if user != conversation.assignee:
            conversation.assignee = user
            fields.append("assignee")
    if fields:
        conversation.save(update_fields=fields)
        webhook_event_emit(
            event_type="conversation.updated", data=conversation_event_data(conversation)
        )
        if "status" in fields and conversation.status == Conversation.Status.RESOLVED:
            conversation_closed(conversation)
    return conversation


def conversation_reply(
    *,
    conversation: Conversation,
    body: str,
    subject: str = "",
    idempotency_key: str | None = None,
    agent: str = "",
) -> Message:
    """An agent's answer in the conversation, on its channel (transactional: the customer wrote
    first). Reopens a resolved conversation as pending; see the module docstring."""
    if idempotency_key:
        # A retried request gets its first answer, whatever the conversation's state now is.
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        reopened = False
        if conversation.status == Conversation.Status.RESOLVED:
            newer = (
                Conversation.objects.filter(
                    customer_id=conversation.customer_id,
                    channel=conversation.channel,
                    status__in=ACTIVE_STATUSES,
                )
                .exclude(pk=conversation.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if newer is not None:
                raise ApiError(
                    f"The customer has since opened conversation {newer}; reply there.",
                    code="conversation_superseded",
                    status_code=409,
                )
            conversation.status = Conversation.Status.PENDING
            conversation.resolved_at = None
            reopened = True
        conversation.last_message_at = max(conversation.last_message_at, now)
        conversation.save(update_fields=["status", "resolved_at", "last_message_at"])
        message = message_send(
            customer=conversation.customer,
            channel=conversation.channel,
            category=MessageCategory.TRANSACTIONAL,
            source=MessageSource.AGENT,
            body=body,
            subject=subject,
            source_ref=agent[:100],
            idempotency_key=idempotency_key,
            conversation=conversation,
            now=now,
        )
        if reopened:
            webhook_event_emit(
                event_type="conversation.updated", data=conversation_event_data(conversation)
            )
    return message


def _user(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ApiError(
            "No active user with that username.",
            code="validation_error",
            status_code=400,
            errors=[{"field": "assignee", "message": f"no active user {username!r}"}],
        )
    return user
