"""Phone calls: the call log fed by the telephony provider's events, and the caller's card an
agent sees when the phone rings.

Both find the customer by phone the same way, with indexed lookups only (so they stay instant on
millions of customers): the profile phone (`Customer.phone`, indexed), else a phone-channel
identity (SMS, WhatsApp or voice; the identities' unique (address, channel) index). Phones are
compared in E.164, so "+7 916 123-45-67" and "8 (916) 123-45-67" find the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import CallLog, Conversation
from customers.models import Channel, ChannelIdentity, Customer, Order, RfmScore, SegmentMembership
from customers.normalize import normalize_phone

PHONE_IDENTITY_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.VOICE)
LAST_ORDERS = 3

# A call's status only moves forward: a late "ringing" must not undo "completed".
CALL_STATUS_RANK: dict[str, int] = {
    "initiated": 0,
    "ringing": 1,
    "answered": 2,
    "in_progress": 2,
    "completed": 3,
    "missed": 3,
    "no_answer": 3,
    "busy": 3,
    "failed": 3,
    "cancelled": 3,
}
FINAL_RANK = 3

GREETINGS = {
    "ru": ("Здравствуйте, {name}!", "Здравствуйте!"),
    "ro": ("Bună ziua, {name}!", "Bună ziua!"),
    "en": ("Hello, {name}!", "Hello!"),
}


def customer_find_by_phone(phone: str) -> Customer | None:
    """The live customer with this E.164 phone on their profile or as a phone identity."""
    customer = Customer.objects.filter(phone=phone, erased_at__isnull=True).order_by("pk").first()
    if customer is not None:
        return customer
    identity = (
        ChannelIdentity.objects.select_related("customer")
        .filter(address=phone, channel__in=PHONE_IDENTITY_CHANNELS)
        .filter(customer__erased_at__isnull=True)
        .order_by("pk")
        .first()
    )
    return identity.customer if identity is not None else None


@dataclass(frozen=True)
class CallEvent:
    """One event about a call, as the telephony webhook reports it (see hooks/telephony.py)."""

    provider: str
    call_id: str
    direction: str  # inbound | outbound
    status: str
    from_number: str
    to_number: str
    started_at: datetime
    duration_seconds: int | None = None
    recording_url: str = ""
    payload: dict[str, Any] | None = None


def call_event_record(*, event: CallEvent) -> CallLog:
    """Create or update the call's log row (one per provider call id) and link it to the customer.

    Repeated and out-of-order events are safe: the status only moves forward, the start time is
    the earliest reported, and a duration or recording, once known, is kept.
    """
    inbound = event.direction == CallLog.Direction.INBOUND
    customer_side = event.from_number if inbound else event.to_number
    try:
        phone = normalize_phone(customer_side)
    except ValueError:
        phone = customer_side[:20]  # hidden or malformed caller id: logged, matched to nobody
    customer = customer_find_by_phone(phone) if phone.startswith("+") else None
    for _ in range(2):  # two first events of a call at once: the loser updates the winner's row
        try:
            with transaction.atomic():
                return _upsert(event, phone, customer)
        except IntegrityError:
            continue
    with transaction.atomic():
        return _upsert(event, phone, customer)


def _upsert(event: CallEvent, phone: str, customer: Customer | None) -> CallLog:
    now = timezone.now()
    call = (
        CallLog.objects.select_for_update()
        .filter(provider=event.provider, provider_call_id=event.call_id)
        .first()
    )
    payload = event.payload or {}
    if call is None:
        return CallLog.objects.create(
            customer=customer,
            provider=event.provider,
            provider_call_id=event.call_id,
            direction=event.direction,
            phone=phone,
            status=event.status,
            started_at=event.started_at,
            duration_seconds=event.duration_seconds,
            recording_url=event.recording_url,
            payload=payload,
            updated_at=now,
        )
    if _rank(event.status) >= _rank(call.status):
        call.status = event.status
    call.started_at = min(call.started_at, event.started_at)
    if event.duration_seconds is not None:
        call.duration_seconds = event.duration_seconds
    if event.recording_url:
        call.recording_url = event.recording_url
    if call.customer_id is None and customer is not None:
        call.customer = customer
    call.payload = {**call.payload, **payload}
    call.updated_at = now
    call.save()
    return call


def _rank(status: str) -> int:
    # Unknown statuses rank as final: the provider reported something after the call was set up.
    return CALL_STATUS_RANK.get(status, FINAL_RANK)


def caller_card(*, phone: str) -> dict[str, Any] | None:
    """What the agent needs when this number calls: who it is, their RFM segment and segments,
    last orders, an open conversation, and a greeting in their language. None if unknown.

    `phone` is any notation; ValueError if it is not a phone number.
    """
    customer = customer_find_by_phone(normalize_phone(phone))
    if customer is None:
        return None
    rfm = RfmScore.objects.filter(customer_id=customer.pk).values_list("segment", flat=True)
    segments = (
        SegmentMembership.objects.filter(customer_id=customer.pk)
        .order_by("segment__name")
        .values_list("segment__name", flat=True)
    )
    orders = Order.objects.filter(customer_id=customer.pk).order_by("-placed_at", "-pk")[
        :LAST_ORDERS
    ]
    conversation = (
        Conversation.objects.filter(
            customer_id=customer.pk,
            status__in=[Conversation.Status.OPEN, Conversation.Status.PENDING],
        )
        .order_by("-last_message_at", "-pk")
        .first()
    )
    return {
        "customer": {
            "external_id": customer.external_id,
            "name": customer.full_name,
            "email": customer.email,
            "phone": customer.phone,
            "locale": customer.locale,
        },
        "rfm_segment": rfm.first(),
        "segments": list(segments),
        "last_orders": [
            {
                "external_id": order.external_id,
                "placed_at": order.placed_at,
                "total": order.total,
                "currency": order.currency,
                "status": order.status,
            }
            for order in orders
        ],
        "open_conversation": None
        if conversation is None
        else {
            "id": conversation.pk,
            "channel": conversation.channel,
            "status": conversation.status,
            "last_message_at": conversation.last_message_at,
        },
        "greeting": greeting(customer),
    }


def greeting(customer: Customer) -> str:
    """ "Здравствуйте, Анна!" for a Russian-speaking customer, "Hello, Anna!" otherwise."""
    language = (customer.locale or settings.LANGUAGE_CODE).split("-")[0].lower()
    with_name, without_name = GREETINGS.get(language, GREETINGS["en"])
    name = customer.first_name.strip()
    return with_name.format(name=name) if name else without_name
