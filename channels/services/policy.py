"""The checks before any send: consent, a valid address, frequency caps and quiet hours.

`send_decision()` returns either a refusal (the message is stored as suppressed with the reason)
or the earliest time it may go (now, or the end of the customer's quiet hours).
"""

from __future__ import annotations

import time as clock
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from channels.models import (
    DeliverySettings,
    InboundMessage,
    Message,
    MessageCategory,
    MessageSource,
    MessageStatus,
    PushSubscription,
)
from customers.models import Channel, ChannelIdentity, Consent, ConsentStatus, Customer
from customers.normalize import normalize_address

WHATSAPP_SESSION_WINDOW = timedelta(hours=24)
SETTINGS_CACHE_SECONDS = 10
WHATSAPP_WINDOW_REFUSAL = (
    "whatsapp: outside the 24-hour customer service window; "
    "send an approved template (payload.template)"
)


@dataclass(frozen=True)
class SendDecision:
    address: str
    refusal: str = ""  # why it must not be sent; empty when it may
    send_after: datetime | None = None  # deferred by quiet hours
    push_kind: str = ""


_settings_cache: tuple[float, DeliverySettings] | None = None


def delivery_settings() -> DeliverySettings:
    """The one settings row (created with defaults), cached a few seconds per process."""
    global _settings_cache
    if _settings_cache is None or clock.monotonic() - _settings_cache[0] > SETTINGS_CACHE_SECONDS:
        row = DeliverySettings.objects.order_by("pk").first() or DeliverySettings.objects.create()
        _settings_cache = (clock.monotonic(), row)
    return _settings_cache[1]


def sms_cost(parts: int) -> tuple[Decimal, str] | None:
    """(amount, currency) of an SMS of `parts` parts at the configured tariff; None if unset."""
    rules = delivery_settings()
    if not rules.sms_part_price:
        return None
    return (rules.sms_part_price * parts).quantize(Decimal("0.01")), rules.sms_price_currency


def forget_delivery_settings() -> None:
    global _settings_cache
    _settings_cache = None


def address_for(customer: Customer, channel: str) -> str:
    """The address to send to: the profile's email or phone, else the newest identity."""
    if channel == Channel.EMAIL and customer.email:
        return customer.email
    if channel in (Channel.SMS, Channel.WHATSAPP) and customer.phone:
        # A WhatsApp number may differ from the profile's phone; an identity on the channel wins.
        channel_number = (
            ChannelIdentity.objects.filter(customer=customer, channel=channel)
            .order_by("-created_at", "-pk")
            .values_list("address", flat=True)
            .first()
        )
        return channel_number or customer.phone
    return (
        ChannelIdentity.objects.filter(customer=customer, channel=channel)
        .order_by("-created_at", "-pk")
        .values_list("address", flat=True)
        .first()
        or ""
    )


def consent_refusal(customer: Customer, channel: str, category: str, source: str = "") -> str:
    status = (
        Consent.objects.filter(customer=customer, channel=channel)
        .values_list("status", flat=True)
        .first()
        or ConsentStatus.UNKNOWN
    )
    return _consent_refusal_for(status, channel, category, source)


def _consent_refusal_for(status: str, channel: str, category: str, source: str) -> str:
    if source == MessageSource.SYSTEM and category == MessageCategory.TRANSACTIONAL:
        # Kaskad's own answers to the customer's STOP / START / link must reach them.
        return ""
    if status == ConsentStatus.OPTED_OUT:
        return f"consent: opted out of {channel}"
    needs_opt_in = category == MessageCategory.MARKETING or channel == Channel.WHATSAPP
    if needs_opt_in and status != ConsentStatus.OPTED_IN:
        what = "WhatsApp" if channel == Channel.WHATSAPP else f"marketing on {channel}"
        return f"consent: {what} needs opted_in (is {status})"
    return ""


# Marketing that reached the customer, or is on its way (queued, also while quiet hours hold it).
# A suppressed send never left and a failed or bounced one never arrived, so neither uses up the
# cap: a cascade's SMS after a bounced email still goes out.
CAPPED_STATUSES = (
    MessageStatus.QUEUED,
    MessageStatus.UNCONFIRMED,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
)


def frequency_refusal(customer: Customer, now: datetime) -> str:
    """Refuse marketing past the caps: all channels together, by when messages were queued, over
    the 24 hours and the 7 × 24 hours before `now`. Rolling windows, so no time zone enters and
    a customer never gets a day's cap twice around midnight.
    """
    week, day = _recent_marketing_counts([customer.pk], now)
    return _frequency_refusal_for(week.get(customer.pk, 0), day.get(customer.pk, 0))


def _frequency_refusal_for(week: int, day: int) -> str:
    rules = delivery_settings()
    if rules.marketing_per_week and week >= rules.marketing_per_week:
        return f"frequency cap: {rules.marketing_per_week} marketing messages per 7 days"
    if rules.marketing_per_day and day >= rules.marketing_per_day:
        return f"frequency cap: {rules.marketing_per_day} marketing messages per day"
    return ""


def quiet_hours_end(customer: Customer, now: datetime) -> datetime | None:
    """If `now` is inside the customer's quiet hours, when they end (UTC); else None."""
    rules = delivery_settings()
    start, end = rules.quiet_hours_start, rules.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    zone = _zone(customer.timezone or rules.default_timezone)
    local = now.astimezone(zone)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    return _local_datetime(end_day, end, zone).astimezone(zoneinfo.ZoneInfo("UTC"))


def whatsapp_refusal(customer: Customer, payload: dict, now: datetime) -> str:
    if payload.get("template"):
        return ""
    in_session = InboundMessage.objects.filter(
        customer=customer,
        channel=Channel.WHATSAPP,
        received_at__gte=now - WHATSAPP_SESSION_WINDOW,
    ).exists()
    if in_session:
        return ""
    return WHATSAPP_WINDOW_REFUSAL


def send_decision(
    *,
    customer: Customer,
    channel: str,
    category: str,
    payload: dict,
    source: str = "",
    address: str | None = None,
    now: datetime | None = None,
) -> SendDecision:
    now = now or timezone.now()
    raw = address if address is not None else address_for(customer, channel)
    status = (
        Consent.objects.filter(customer=customer, channel=channel)
        .values_list("status", flat=True)
        .first()
        or ConsentStatus.UNKNOWN
    )
    counts = (0, 0)
    if category == MessageCategory.MARKETING:
        week, day = _recent_marketing_counts([customer.pk], now)
        counts = (week.get(customer.pk, 0), day.get(customer.pk, 0))
    push_kinds = {}
    if channel == Channel.PUSH:
        push_kinds = dict(
            PushSubscription.objects.filter(
                identity__customer=customer, identity__channel=channel
            ).values_list("identity__address", "kind")
        )
    return _decide(
        customer,
        channel,
        category,
        source,
        now,
        raw=raw,
        consent=status,
        counts=counts,
        whatsapp_ok=channel != Channel.WHATSAPP or not whatsapp_refusal(customer, payload, now),
        push_kinds=push_kinds,
    )


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local_datetime(day, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def send_decisions_many(
    customers: list[Customer],
    channel: str,
    category: str,
    *,
    source: str = "",
    payload: dict | None = None,
    now: datetime | None = None,
) -> dict[int, SendDecision]:
    """`send_decision` for a batch on one channel, set-based: one query per check, not one per
    customer, so a broadcast chunk of a thousand costs a handful of queries. Same rules, same
    refusal texts. Counts only messages already stored: the caller sends each customer at most
    one message per batch."""
    now = now or timezone.now()
    payload = payload or {}
    ids = [c.pk for c in customers]
    identities: dict[int, str] = {}
    if channel not in (Channel.EMAIL,) or any(not c.email for c in customers):
        # Newest identity per customer on the channel (ascending order: the last one wins).
        for customer_id, address in (
            ChannelIdentity.objects.filter(customer_id__in=ids, channel=channel)
            .order_by("created_at", "pk")
            .values_list("customer_id", "address")
        ):
            identities[customer_id] = address
    consents = dict(
        Consent.objects.filter(customer_id__in=ids, channel=channel).values_list(
            "customer_id", "status"
        )
    )
    rules = delivery_settings()
    capped = rules.marketing_per_day or rules.marketing_per_week
    week, day = (
        _recent_marketing_counts(ids, now)
        if category == MessageCategory.MARKETING and capped
        else ({}, {})
    )
    in_session: set[int] = set()
    if channel == Channel.WHATSAPP and not payload.get("template"):
        in_session = set(
            InboundMessage.objects.filter(
                customer_id__in=ids,
                channel=Channel.WHATSAPP,
                received_at__gte=now - WHATSAPP_SESSION_WINDOW,
            ).values_list("customer_id", flat=True)
        )
    push_kinds: dict[str, str] = {}
    if channel == Channel.PUSH:
        push_kinds = dict(
            PushSubscription.objects.filter(
                identity__customer_id__in=ids, identity__channel=channel
            ).values_list("identity__address", "kind")
        )
    decisions = {}
    for customer in customers:
        decisions[customer.pk] = _decide(
            customer,
            channel,
            category,
            source,
            now,
            raw=_batch_address(customer, channel, identities),
            consent=consents.get(customer.pk, ConsentStatus.UNKNOWN),
            counts=(week.get(customer.pk, 0), day.get(customer.pk, 0)),
            whatsapp_ok=customer.pk in in_session or bool(payload.get("template")),
            push_kinds=push_kinds,
        )
    return decisions


def _batch_address(customer: Customer, channel: str, identities: dict[int, str]) -> str:
    if channel == Channel.EMAIL and customer.email:
        return customer.email
    if channel in (Channel.SMS, Channel.WHATSAPP) and customer.phone:
        return identities.get(customer.pk) or customer.phone
    return identities.get(customer.pk, "")


def _recent_marketing_counts(ids: list[int], now: datetime) -> tuple[dict, dict]:
    recent = Message.objects.filter(
        customer_id__in=ids,
        category=MessageCategory.MARKETING,
        status__in=CAPPED_STATUSES,
        queued_at__gte=now - timedelta(days=7),
    )
    week: dict[int, int] = {}
    day: dict[int, int] = {}
    for customer_id, queued_at in recent.values_list("customer_id", "queued_at"):
        week[customer_id] = week.get(customer_id, 0) + 1
        if queued_at >= now - timedelta(days=1):
            day[customer_id] = day.get(customer_id, 0) + 1
    return week, day


def _decide(
    customer: Customer,
    channel: str,
    category: str,
    source: str,
    now: datetime,
    *,
    raw: str,
    consent: str,
    counts: tuple[int, int],
    whatsapp_ok: bool,
    push_kinds: dict[str, str],
) -> SendDecision:
    """The one decision, given what was read for this customer (singly or for a batch)."""
    if customer.erased_at is not None:
        return SendDecision(address="", refusal="customer erased")
    if not raw:
        return SendDecision(address="", refusal=f"address: no {channel} address")
    try:
        address = normalize_address(channel, raw)
    except ValueError as exc:
        return SendDecision(address=raw, refusal=f"address: {exc}")
    push_kind = push_kinds.get(address, "") if channel == Channel.PUSH else ""
    if channel == Channel.PUSH and not push_kind:
        return SendDecision(address=address, refusal="address: no push subscription")
    refusal = _consent_refusal_for(consent, channel, category, source)
    if not refusal and channel == Channel.WHATSAPP and not whatsapp_ok:
        refusal = WHATSAPP_WINDOW_REFUSAL
    if not refusal and category == MessageCategory.MARKETING:
        refusal = _frequency_refusal_for(*counts)
    if refusal:
        return SendDecision(address=address, refusal=refusal, push_kind=push_kind)
    send_after = quiet_hours_end(customer, now) if category == MessageCategory.MARKETING else None
    return SendDecision(address=address, send_after=send_after, push_kind=push_kind)
