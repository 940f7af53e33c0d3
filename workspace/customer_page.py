"""Reads for the customer page (workspace/views/customers.py): the header, the timeline rows
with their messages, and the orders, events, notes and audit tabs, each paged by a cursor."""

from __future__ import annotations

import base64
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.models import AuditEntry
from campaigns.journeys.selectors import customer_enrollments
from campaigns.loyalty.selectors import points_panel
from campaigns.promo.selectors import promo_codes_of_customer
from campaigns.recommendations.selectors import customer_picks_panel
from channels.models import Conversation, Message, MessageStatusChange
from customers.models import Channel, ConsentStatus, Customer, Event, Note, Order
from customers.timeline import TimelineEntry

PAGE_SIZE = 25
CONSENT_CHANNELS = (
    Channel.EMAIL,
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.TELEGRAM,
    Channel.VIBER,
    Channel.PUSH,
)


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


class BadCursor(ValueError):
    pass


def _encode(when: datetime, pk: int) -> str:
    raw = orjson.dumps([when.isoformat(), pk])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        when, pk = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None or not 0 < int(pk) < 2**63:
            raise ValueError
        return moment.astimezone(UTC), int(pk)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadCursor("not a cursor this page gave out") from None


def keyset_page(rows: QuerySet, time_field: str, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """Newest first by (time_field, pk); never counts."""
    if cursor:
        when, pk = _decode(cursor)
        rows = rows.filter(Q(**{f"{time_field}__lt": when}) | Q(**{time_field: when, "pk__lt": pk}))
    found = list(rows.order_by(f"-{time_field}", "-pk")[: size + 1])
    page = found[:size]
    more = len(found) > size
    return Page(page, _encode(getattr(page[-1], time_field), page[-1].pk) if more else None)


def customer_local_time(customer: Customer, now: datetime | None = None) -> datetime | None:
    if not customer.timezone:
        return None
    try:
        zone = zoneinfo.ZoneInfo(customer.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return (now or timezone.now()).astimezone(zone)


def customer_header(customer: Customer) -> dict[str, Any]:
    """What the header shows; `customer` comes from customers.selectors.customer_get (its
    identities, consents, RFM score and segments already loaded)."""
    consents = {c.channel: c for c in customer.consents.all()}
    rfm = getattr(customer, "rfm", None) if hasattr(customer, "rfm") else None
    return {
        "local_time": customer_local_time(customer),
        # Addresses beyond the profile's email and phone (Telegram, a second number…).
        "identities": sorted(
            (
                i
                for i in customer.identities.all()
                if i.address not in {customer.email, customer.phone}
            ),
            key=lambda i: (i.channel, i.address),
        ),
        "consents": [
            {
                "channel": channel,
                "status": consents[channel].status
                if channel in consents
                else ConsentStatus.UNKNOWN,
                "updated_at": consents[channel].updated_at if channel in consents else None,
                "source": consents[channel].source if channel in consents else "",
            }
            for channel in CONSENT_CHANNELS
        ],
        "rfm": rfm,
        "value": getattr(customer, "value", None) if hasattr(customer, "value") else None,
        "points": points_panel(customer.pk),
        "promo_codes": promo_codes_of_customer(customer.pk),
        "segments": [m.segment for m in customer.segment_memberships.all()],
        # Called by the template only for view_campaigns holders (the panel checks).
        "recommendation_picks": partial(customer_picks_panel, customer),
        "journey_runs": partial(customer_enrollments, customer.pk, limit=10),
        "open_conversations": list(
            Conversation.objects.filter(
                customer=customer,
                status__in=[Conversation.Status.OPEN, Conversation.Status.PENDING],
            ).order_by("-last_message_at")[:5]
        ),
    }


@dataclass(frozen=True)
class TimelineRow:
    entry: TimelineEntry
    message: Message | None = None
    history: tuple = ()


def timeline_rows(entries: list[TimelineEntry]) -> list[TimelineRow]:
    """Entries with, for messages, the message row (parts, subject) and its status history: two
    queries for the whole page."""
    ids = [e.id for e in entries if e.kind == "message"]
    messages: dict[int, Message] = {}
    history: dict[int, list[MessageStatusChange]] = {}
    if ids:
        messages = {
            m.pk: m
            for m in Message.objects.filter(pk__in=ids).only(
                "id",
                "channel",
                "subject",
                "body",
                "parts",
                "status",
                "status_reason",
                "address",
                "queued_at",
            )
        }
        for change in MessageStatusChange.objects.filter(message_id__in=ids).order_by(
            "occurred_at", "pk"
        ):
            history.setdefault(change.message_id, []).append(change)
    return [
        TimelineRow(e, messages.get(e.id), tuple(history.get(e.id, ())))
        if e.kind == "message"
        else TimelineRow(e)
        for e in entries
    ]


def message_with_history(message_id: int, customer_id: int) -> TimelineRow | None:
    message = Message.objects.filter(pk=message_id, customer_id=customer_id).first()
    if message is None:
        return None
    from channels.timeline_sources import _message_entry

    history = tuple(message.status_changes.order_by("occurred_at", "pk"))
    return TimelineRow(_message_entry(message), message, history)


def customer_orders(customer: Customer, cursor: str | None) -> Page:
    return keyset_page(
        Order.objects.filter(customer=customer).prefetch_related("items"), "placed_at", cursor
    )


def customer_events(customer: Customer, cursor: str | None) -> Page:
    return keyset_page(Event.objects.filter(customer=customer), "occurred_at", cursor)


def customer_notes(customer: Customer, cursor: str | None) -> Page:
    return keyset_page(
        Note.objects.filter(customer=customer).select_related("author"), "created_at", cursor
    )


def customer_audit(customer: Customer, cursor: str | None) -> Page:
    return keyset_page(AuditEntry.objects.filter(customer_id=customer.pk), "occurred_at", cursor)
