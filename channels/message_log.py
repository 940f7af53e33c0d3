"""Reads for the message log (/app/messages/): filters, keyset pages newest first, one message with
its history, and the sandbox outbox.

Pages never count: each reads one row more than it shows to know whether there is a next page. The
order is (queued_at, id) descending, read backwards along the `message_log` index.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import (
    Message,
    MessageCategory,
    MessageSource,
    MessageStatus,
    MessageStatusChange,
    SandboxMessage,
)
from channels.sms_encoding import sms_size
from customers.models import Channel, Customer
from customers.normalize import normalize_phone

PAGE_SIZE = 50
# Filters no index serves look at this many messages per request at most (message_log_page).
SCAN_WINDOW = 20_000
# Statuses with a partial index of their own (Message.Meta: message_problems).
PROBLEM_STATUSES = frozenset({"failed", "bounced", "suppressed", "unconfirmed"})
# A customer filter matches one customer by external id, or the few sharing a phone.
CUSTOMER_MATCH_LIMIT = 20

# "Email" and "Push" read differently in Russian as a channel's name: context "channel".
CHANNEL_LABELS: dict[str, Any] = {
    Channel.EMAIL: pgettext_lazy("channel", "Email"),
    Channel.SMS: pgettext_lazy("channel", "SMS"),
    Channel.WHATSAPP: "WhatsApp",
    Channel.TELEGRAM: "Telegram",
    Channel.VIBER: "Viber",
    Channel.PUSH: pgettext_lazy("channel", "Push"),
    Channel.VOICE: pgettext_lazy("channel", "Voice call"),
}
STATUS_LABELS: dict[str, Any] = {
    MessageStatus.QUEUED: pgettext_lazy("message status", "Queued"),
    MessageStatus.UNCONFIRMED: pgettext_lazy("message status", "Unconfirmed"),
    MessageStatus.SENT: pgettext_lazy("message status", "Sent"),
    MessageStatus.DELIVERED: pgettext_lazy("message status", "Delivered"),
    MessageStatus.OPENED: pgettext_lazy("message status", "Opened"),
    MessageStatus.CLICKED: pgettext_lazy("message status", "Clicked"),
    MessageStatus.FAILED: pgettext_lazy("message status", "Failed"),
    MessageStatus.BOUNCED: pgettext_lazy("message status", "Bounced"),
    MessageStatus.SUPPRESSED: pgettext_lazy("message status", "Suppressed"),
}
CATEGORY_LABELS: dict[str, Any] = {
    MessageCategory.MARKETING: pgettext_lazy("message category", "Marketing"),
    MessageCategory.TRANSACTIONAL: pgettext_lazy("message category", "Transactional"),
}
SOURCE_LABELS: dict[str, Any] = {
    MessageSource.API: pgettext_lazy("message source", "API"),
    MessageSource.CAMPAIGN: pgettext_lazy("message source", "Campaign"),
    MessageSource.JOURNEY: pgettext_lazy("message source", "Journey step"),
    MessageSource.AGENT: pgettext_lazy("message source", "Agent"),
    MessageSource.AUTO_REPLY: pgettext_lazy("message source", "Auto-reply"),
    MessageSource.SYSTEM: pgettext_lazy("message source", "System"),
}


def _choices(labels: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(str(value), label) for value, label in labels.items()]


def _day_start(day: date) -> datetime:
    """Midnight of `day` in the viewer's time zone (the workspace activates the staff's own)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MessageLogFilter(django_filters.FilterSet):
    """The log's GET filters. An invalid value is a form error and that filter is left out."""

    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=_choices(CHANNEL_LABELS), empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=_choices(STATUS_LABELS), empty_label=_("Any")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=_choices(CATEGORY_LABELS), empty_label=_("Any")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=_choices(SOURCE_LABELS), empty_label=_("Any")
    )
    date_from = django_filters.DateFilter(
        label=_("From"), method="filter_date_from", widget=DateInput
    )
    date_to = django_filters.DateFilter(label=_("To"), method="filter_date_to", widget=DateInput)
    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        help_text=_("External id or phone"),
        max_length=255,
    )

    class Meta:
        model = Message
        fields: list[str] = []

    def scan_window_base(self) -> QuerySet[Message] | None:
        """The messages a bounded page counts its window over, or None when no bound is needed.

        No filters read the newest rows; a customer reads the timeline index and a problem status
        its partial index (message_problems), so neither needs the bound. The dates, which the
        (queued_at, id) index serves, narrow the window's base so it starts inside the range.
        """
        if not self.is_bound:
            return None
        self.form.is_valid()  # cleaned_data holds the valid fields even when another is not
        data = {k: v for k, v in getattr(self.form, "cleaned_data", {}).items() if v}
        if not data or data.get("customer") or data.get("status") in PROBLEM_STATUSES:
            return None
        base = Message.objects.all()
        if data.get("date_from"):
            base = self.filter_date_from(base, "date_from", data["date_from"])
        if data.get("date_to"):
            base = self.filter_date_to(base, "date_to", data["date_to"])
        return base

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(queued_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(queued_at__lt=_day_start(value + timedelta(days=1)))

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(external_id=value)
        with suppress(ValueError):  # not a phone: the external id alone
            match |= Q(phone=normalize_phone(value))
        ids = list(
            Customer.objects.filter(match).values_list("pk", flat=True)[:CUSTOMER_MATCH_LIMIT]
        )
        # customer_id IN (…) reads the message_timeline index, newest first per customer.
        return queryset.filter(customer_id__in=ids) if ids else queryset.none()


# --- Cursors: "<microseconds since the epoch>.<id>" of the last row shown -------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_encode(moment: datetime, pk: int) -> str:
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{pk}"


def cursor_decode(value: str) -> tuple[datetime, int] | None:
    """The (queued_at, id) a cursor names, or None for anything malformed (the first page)."""
    micros, _dot, pk = (value or "").partition(".")
    try:
        moment, key = _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None
    return (moment, key) if key > 0 else None


def _after(queryset: QuerySet, field: str, cursor: str | None) -> QuerySet:
    position = cursor_decode(cursor) if cursor else None
    if position is None:
        return queryset
    moment, pk = position
    # The first condition bounds the index range; the second breaks ties within one instant.
    return queryset.filter(**{f"{field}__lte": moment}).filter(
        Q(**{f"{field}__lt": moment}) | Q(pk__lt=pk)
    )


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    # True when the page stopped at the scan window rather than at a full page of matches.
    searched: bool = False


def message_log_queryset() -> QuerySet[Message]:
    """Every message, with what a log row shows and no more (the HTML and payload stay behind)."""
    return (
        Message.objects.select_related("customer")
        .defer("body", "html", "payload", "request_hash")
        .annotate(preview=Substr("body", 1, 140))
    )


def message_log_page(
    queryset: QuerySet[Message],
    *,
    cursor: str | None = None,
    window_base: QuerySet[Message] | None = None,
) -> Page:
    """One page of the log, newest first, after `cursor`.

    With a `window_base`, one request looks at no more than SCAN_WINDOW of its messages: filters
    that no index serves (a rare source and category, say) would otherwise read the whole table
    backwards to find no match. The page then holds the matches among those messages, maybe none,
    and its cursor continues the search below them ("Show more").
    """
    after = _after(queryset, "queued_at", cursor)
    boundary = None
    if window_base is not None:
        boundary = (
            _after(window_base, "queued_at", cursor)
            .order_by("-queued_at", "-id")
            .values_list("queued_at", "id")[SCAN_WINDOW - 1 : SCAN_WINDOW]
            .first()
        )
    if boundary is not None:
        moment, pk = boundary
        after = after.filter(queued_at__gte=moment).filter(Q(queued_at__gt=moment) | Q(pk__gte=pk))
    rows = list(after.order_by("-queued_at", "-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if more:
        last = rows[-1]
        return Page(rows, cursor_encode(last.queued_at, last.pk), searched=False)
    if boundary is not None:
        # Fewer matches than a page among the window: go on below it.
        return Page(rows, cursor_encode(*boundary), searched=True)
    return Page(rows, None)


def message_detail(message_id: int) -> dict[str, Any] | None:
    """A message, its status history in time order, its short links and clicks; None if missing."""
    message = Message.objects.select_related("customer").filter(pk=message_id).first()
    if message is None:
        return None
    history: list[Any] = list(
        MessageStatusChange.objects.filter(message=message).order_by("occurred_at", "id")
    )
    if not any(change.status == MessageStatus.QUEUED for change in history):
        # Queueing is not recorded as a change (the message row says when): shown first anyway.
        history.insert(
            0,
            SimpleNamespace(
                status=MessageStatus.QUEUED, occurred_at=message.queued_at, reason="", source=""
            ),
        )
    return {
        "message": message,
        "history": history,
        "links": list(message.tracked_links.order_by("id")),
        "clicks": [change for change in history if change.status == MessageStatus.CLICKED],
        "sms": sms_size(message.body) if message.channel == Channel.SMS else None,
        "payload_items": _payload_items(message.payload),
    }


def _payload_items(payload: Any) -> list[tuple[str, str]]:
    """A channel payload's top-level fields as text, for the messenger and push card."""
    if not isinstance(payload, dict):
        return []
    return [
        (str(key), value if isinstance(value, str) else str(value))
        for key, value in payload.items()
        if key != "html"
    ]


def sandbox_outbox_page(*, cursor: str | None = None) -> Page:
    """What the sandbox kept, newest first, with each message's customer."""
    queryset = SandboxMessage.objects.select_related("message__customer").defer(
        "message__body", "message__html", "message__payload"
    )
    after = None
    if cursor:
        try:
            after = int(cursor)
        except ValueError:
            after = None
    if after:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, str(rows[-1].pk) if more else None)
