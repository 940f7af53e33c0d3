"""Reads that compose several apps for the workspace pages."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.message_log import CHANNEL_LABELS
from channels.models import Conversation, Message
from customers.labels import RFM_SEGMENT_LABELS
from customers.models import Customer, RfmScore, RfmSegment

# Inbox tiles count at most this many conversations; more shows as "999+".
INBOX_COUNT_CAP = 999
# Home's send chart groups the nine message statuses into what a glance needs; each has a colour.
SEND_GROUPS: list[tuple[str, Any, str, tuple[str, ...]]] = [
    ("queued", pgettext_lazy("sends", "Queued"), "neutral", ("queued",)),
    ("sent", pgettext_lazy("sends", "Sent"), "info", ("sent",)),
    ("unconfirmed", pgettext_lazy("sends", "Unconfirmed"), "violet", ("unconfirmed",)),
    (
        "delivered",
        pgettext_lazy("sends", "Delivered, opened or clicked"),
        "ok",
        ("delivered", "opened", "clicked"),
    ),
    ("suppressed", pgettext_lazy("sends", "Suppressed"), "warn", ("suppressed",)),
    ("failed", pgettext_lazy("sends", "Failed or bounced"), "danger", ("failed", "bounced")),
]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _today_start() -> datetime:
    return _day_start(timezone.localdate())


def home_summary(user) -> dict:
    """Home's blocks, each only for staff allowed to open the page it links to (else None).

    Every read is bounded: today's messages through the (queued_at, id) index, open conversations
    counted up to a cap, a week of new customers through the created_at index, and one GROUP BY over
    the RFM scores.
    """
    since = _today_start()
    return {
        "since": since,
        "sends": sends_today(since) if user.has_perm("workspace.view_messages") else None,
        "inbox": inbox_counts(user) if user.has_perm("workspace.view_inbox") else None,
        "customers": new_customers() if user.has_perm("workspace.view_customers") else None,
        "rfm": rfm_distribution() if user.has_perm("workspace.view_rfm") else None,
    }


def sends_today(since: datetime) -> dict:
    """Messages queued since `since`, by channel and status group, as chart data."""
    counts: dict[tuple[str, str], int] = {}
    for row in (
        Message.objects.filter(queued_at__gte=since)
        .values("channel", "status")
        .annotate(n=Count("*"))
        .order_by()
    ):
        counts[(row["channel"], row["status"])] = row["n"]
    channels = [c for c in CHANNEL_LABELS if any(ch == c for ch, _s in counts)]
    datasets = []
    for key, label, tone, statuses in SEND_GROUPS:
        data = [sum(counts.get((c, s), 0) for s in statuses) for c in channels]
        if any(data):
            datasets.append({"key": key, "label": str(label), "tone": tone, "data": data})
    return {
        "total": sum(counts.values()),
        "chart": {"labels": [str(CHANNEL_LABELS[c]) for c in channels], "datasets": datasets},
        "failed": sum(n for (_c, s), n in counts.items() if s in ("failed", "bounced")),
    }


def _capped(queryset) -> dict:
    n = queryset.values("pk")[: INBOX_COUNT_CAP + 1].count()
    return {"n": min(n, INBOX_COUNT_CAP), "more": n > INBOX_COUNT_CAP}


def inbox_counts(user) -> dict:
    """Open conversations: all, unassigned and the viewer's own, each counted up to the cap."""
    open_ = Conversation.objects.filter(status=Conversation.Status.OPEN)
    return {
        "open": _capped(open_),
        "unassigned": _capped(open_.filter(assignee__isnull=True)),
        "mine": _capped(open_.filter(assignee=user)),
    }


def new_customers(days: int = 7) -> dict:
    """Customers created per day over the last `days` days (today last), in the viewer's zone."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    per_day = {
        row["day"]: row["n"]
        for row in Customer.objects.filter(created_at__gte=_day_start(first))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
    }
    series = [per_day.get(first + timedelta(days=i), 0) for i in range(days)]
    return {"today": series[-1], "week": sum(series), "series": series}


def rfm_distribution() -> dict:
    """Scored customers per RFM segment, all eleven in their usual order: one GROUP BY."""
    counts = {
        row["segment"]: row["n"]
        for row in RfmScore.objects.values("segment").annotate(n=Count("*")).order_by()
    }
    rows = [
        {"segment": s.value, "label": str(RFM_SEGMENT_LABELS[s.value]), "n": counts.get(s, 0)}
        for s in RfmSegment
    ]
    total = sum(row["n"] for row in rows)
    return {
        "total": total,
        "rows": rows,
        "chart": {
            "labels": [row["label"] for row in rows],
            "datasets": [
                {"label": str(_("Customers")), "tone": "accent", "data": [r["n"] for r in rows]}
            ],
        },
    }
