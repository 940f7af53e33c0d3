"""What the inbox (/app/inbox) reads: the conversation lists with capped counts, the thread with
private notes, the customer's context, and cheap "has anything changed" versions for polling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from api.models import AuditEntry
from channels.models import (
    CannedResponse,
    Conversation,
    ConversationNote,
    InboundMessage,
    Message,
)
from customers.models import Order

VIEWS = ("open", "mine", "unassigned", "snoozed", "closed")
PAGE_SIZE = 25
COUNT_CAP = 1000  # counts stop here: "999+", never a full COUNT(*)
THREAD_LIMIT = 200  # newest items of each kind shown in a thread
ACTIVE = (Conversation.Status.OPEN, Conversation.Status.PENDING)


# --- Lists ------------------------------------------------------------------------------------
def inbox_queryset(
    *, view: str, user, channel: str = "", now: datetime | None = None
) -> QuerySet[Conversation]:
    """The conversations of one list. Snoozed ones are out of the open lists until their time,
    whether or not the wake-up job has run yet."""
    now = now or timezone.now()
    qs = Conversation.objects.all()
    if view == "closed":
        qs = qs.filter(status=Conversation.Status.RESOLVED)
    elif view == "snoozed":
        qs = qs.filter(status__in=ACTIVE, snoozed_until__gt=now)
    else:
        qs = qs.filter(status__in=ACTIVE).filter(
            Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
        )
        if view == "mine":
            qs = qs.filter(assignee=user)
        elif view == "unassigned":
            qs = qs.filter(assignee__isnull=True)
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def inbox_counts(*, user, channel: str = "", now: datetime | None = None) -> dict[str, str]:
    """Each list's size as shown on its tab: exact up to 999, then "999+"."""
    now = now or timezone.now()
    counts = {}
    for view in VIEWS:
        n = (
            inbox_queryset(view=view, user=user, channel=channel, now=now)
            .values("pk")[:COUNT_CAP]
            .count()
        )
        counts[view] = f"{COUNT_CAP - 1}+" if n >= COUNT_CAP else str(n)
    return counts


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    snippet: str
    snippet_direction: str  # "in" | "out" | ""
    waiting: bool  # the customer wrote last: an agent should answer


def _cursor_parse(cursor: str) -> tuple[datetime, int] | None:
    try:
        micros, pk = cursor.split(".", 1)
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), int(pk)
    except (ValueError, OverflowError, OSError):
        return None


def _cursor_of(conversation: Conversation) -> str:
    return f"{int(conversation.last_message_at.timestamp() * 1_000_000)}.{conversation.pk}"


def inbox_page(
    *, view: str, user, channel: str = "", cursor: str = "", now: datetime | None = None
) -> tuple[list[InboxRow], str]:
    """One page of a list, most recently active first, and the cursor of the next page ("")."""
    qs = inbox_queryset(view=view, user=user, channel=channel, now=now)
    after = _cursor_parse(cursor) if cursor else None
    if after is not None:
        at, pk = after
        qs = qs.filter(Q(last_message_at__lt=at) | Q(last_message_at=at, pk__lt=pk))
    last_in = InboundMessage.objects.filter(conversation=OuterRef("pk")).order_by(
        "-received_at", "-pk"
    )
    last_out = Message.objects.filter(conversation=OuterRef("pk")).order_by("-queued_at", "-pk")
    qs = (
        qs.select_related("customer", "assignee")
        .annotate(
            last_in_body=Subquery(last_in.values("body")[:1]),
            last_in_at=Subquery(last_in.values("received_at")[:1]),
            last_out_body=Subquery(last_out.values("body")[:1]),
            last_out_at=Subquery(last_out.values("queued_at")[:1]),
        )
        .order_by("-last_message_at", "-pk")
    )
    conversations = list(qs[: PAGE_SIZE + 1])
    rows = []
    for c in conversations[:PAGE_SIZE]:
        waiting = c.last_in_at is not None and (
            c.last_out_at is None or c.last_in_at > c.last_out_at
        )
        if c.last_in_at is None and c.last_out_at is None:
            snippet, direction = "", ""
        elif waiting or c.last_out_at is None:
            snippet, direction = c.last_in_body or "", "in"
        else:
            snippet, direction = c.last_out_body or "", "out"
        rows.append(InboxRow(c, " ".join(snippet.split())[:140], direction, waiting))
    next_cursor = _cursor_of(conversations[PAGE_SIZE - 1]) if len(conversations) > PAGE_SIZE else ""
    return rows, next_cursor


def inbox_version() -> str:
    """Changes when any inbound message arrives or any staff action is recorded: the list poll
    answers "nothing new" (204) while it stays the same. Two index-only MAX(pk) reads."""
    inbound = InboundMessage.objects.aggregate(m=Max("pk"))["m"] or 0
    audit = AuditEntry.objects.aggregate(m=Max("pk"))["m"] or 0
    return f"{inbound}.{audit}"


# --- One conversation -------------------------------------------------------------------------
@dataclass(frozen=True)
class ThreadEntry:
    kind: str  # "in" | "out" | "note"
    id: int
    at: datetime
    body: str
    subject: str = ""
    status: str = ""  # out: the message's delivery status
    status_reason: str = ""
    source: str = ""  # out: agent, auto_reply, system, …
    author: str = ""  # out: the agent; note: its author
    attachments: tuple[str, ...] = ()  # in: kinds of media the customer sent (see below)


# What a messenger's message carries besides text; the media stay with the messenger (Kaskad
# keeps only the webhook payload), so the thread names them. Telegram: a key per kind; WhatsApp
# and Viber: message["type"].
_TELEGRAM_MEDIA = {
    "photo": "image",
    "document": "file",
    "voice": "audio",
    "audio": "audio",
    "video": "video",
    "video_note": "video",
    "animation": "video",
    "sticker": "sticker",
    "location": "location",
    "contact": "contact",
}
_TYPED_MEDIA = {
    "image": "image",
    "picture": "image",
    "document": "file",
    "file": "file",
    "audio": "audio",
    "voice": "audio",
    "video": "video",
    "sticker": "sticker",
    "location": "location",
    "contacts": "contact",
    "contact": "contact",
}


def inbound_attachments(payload: Any) -> tuple[str, ...]:
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, dict):
        return ()
    kinds = [kind for key, kind in _TELEGRAM_MEDIA.items() if key in message]
    if not kinds and isinstance(message.get("type"), str):
        kind = _TYPED_MEDIA.get(message["type"])
        kinds = [kind] if kind else []
    return tuple(dict.fromkeys(kinds))


def conversation_thread_entries(conversation: Conversation) -> tuple[list[ThreadEntry], bool]:
    """Every message in and out and every private note, oldest first (the newest
    THREAD_LIMIT of each kind), and whether older ones were left out."""
    inbound = list(
        InboundMessage.objects.filter(conversation=conversation)
        .only("pk", "received_at", "body", "payload")
        .order_by("-received_at", "-pk")[:THREAD_LIMIT]
    )
    outbound = list(
        Message.objects.filter(conversation=conversation)
        .only(
            "pk", "queued_at", "body", "subject", "status", "status_reason", "source", "source_ref"
        )
        .order_by("-queued_at", "-pk")[:THREAD_LIMIT]
    )
    notes = list(
        ConversationNote.objects.filter(conversation=conversation)
        .select_related("author")
        .order_by("-created_at", "-pk")[:THREAD_LIMIT]
    )
    truncated = THREAD_LIMIT in (len(inbound), len(outbound), len(notes))
    entries = [
        ThreadEntry("in", m.pk, m.received_at, m.body, attachments=inbound_attachments(m.payload))
        for m in inbound
    ]
    entries += [
        ThreadEntry(
            "out",
            m.pk,
            m.queued_at,
            m.body,
            subject=m.subject,
            status=m.status,
            status_reason=m.status_reason,
            source=m.source,
            author=m.source_ref if m.source == "agent" else "",
        )
        for m in outbound
    ]
    entries += [
        ThreadEntry(
            "note",
            n.pk,
            n.created_at,
            n.body,
            author=(n.author.get_full_name() or n.author.get_username()) if n.author else "",
        )
        for n in notes
    ]
    order = {"in": 0, "out": 1, "note": 2}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.id))
    return entries, truncated


def conversation_version(conversation: Conversation) -> str:
    """Changes when the thread or the conversation's state does: a new message in or out, an
    outbound status change, a note, a status, assignee or snooze change."""
    inbound = (
        InboundMessage.objects.filter(conversation=conversation).aggregate(m=Max("pk"))["m"] or 0
    )
    out = Message.objects.filter(conversation=conversation).aggregate(
        m=Max("updated_at"), n=Max("pk")
    )
    notes = (
        ConversationNote.objects.filter(conversation=conversation).aggregate(m=Max("pk"))["m"] or 0
    )
    updated = out["m"].timestamp() if out["m"] else 0
    snoozed = conversation.snoozed_until.timestamp() if conversation.snoozed_until else 0
    return (
        f"{inbound}.{out['n'] or 0}.{updated:.6f}.{notes}."
        f"{conversation.status}.{conversation.assignee_id or 0}.{snoozed:.0f}"
    )


def conversation_context(conversation: Conversation) -> dict[str, Any]:
    """The customer beside the thread: contacts, recent orders, their other open conversations."""
    customer = conversation.customer
    return {
        "customer": customer,
        "customer_url": f"/app/customers/{customer.external_id}/",
        "identities": list(customer.identities.order_by("channel", "address")[:10]),
        "orders": list(Order.objects.filter(customer=customer).order_by("-placed_at", "-pk")[:5]),
        "other_conversations": list(
            Conversation.objects.filter(customer=customer, status__in=ACTIVE)
            .exclude(pk=conversation.pk)
            .order_by("-last_message_at")[:5]
        ),
    }


def inbox_staff():
    """Active staff who may work in the inbox: the people a conversation can be assigned to."""
    perm = Permission.objects.filter(
        content_type__app_label="workspace", codename="view_inbox"
    ).first()
    query = Q(is_superuser=True)
    if perm is not None:
        query |= Q(groups__permissions=perm) | Q(user_permissions=perm)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(query)
        .distinct()
        .order_by("username")
    )


def canned_list() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.order_by("shortcode")
