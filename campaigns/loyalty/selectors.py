"""Reads for loyalty points: settings, batches with what remains of them, balances, history."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.loyalty.models import LoyaltySettings, PointsAllocation, PointsBalance, PointsEntry


def loyalty_settings_get() -> LoyaltySettings:
    settings, _ = LoyaltySettings.objects.get_or_create(pk=1)
    return settings


def _drawn() -> Subquery:
    """What has been drawn from the batch in the outer query, or NULL."""
    return Subquery(
        PointsAllocation.objects.filter(batch=OuterRef("pk"))
        .values("batch")
        .annotate(total=Sum("points"))
        .values("total"),
        output_field=IntegerField(),
    )


def batches_annotated(customer_id: int) -> QuerySet[PointsEntry]:
    """A customer's batches (positive entries) with `remaining`, soonest-expiring first."""
    return (
        PointsEntry.objects.filter(customer_id=customer_id, points__gt=0)
        .annotate(remaining=F("points") - Coalesce(_drawn(), Value(0)))
        .order_by("expires_at", "pk")
    )


def batches_with_remaining(customer_id: int, *, now: datetime | None) -> list[PointsEntry]:
    """Batches that still hold points (and, given `now`, have not expired), FIFO by expiry."""
    rows = batches_annotated(customer_id).filter(remaining__gt=0)
    if now is not None:
        rows = rows.filter(expires_at__gt=now)
    return list(rows)


@dataclass(frozen=True)
class PointsSummary:
    balance: int
    next_expiry_at: datetime | None
    next_expiry_points: int


def points_summaries(customer_ids: list[int], *, now: datetime | None = None) -> dict:
    """{customer_id: PointsSummary} in two queries, for pages, the API and templates. The balance
    leaves out points past their date that the nightly job has not expired yet."""
    now = now or timezone.now()
    balances = dict(
        PointsBalance.objects.filter(customer_id__in=customer_ids).values_list(
            "customer_id", "balance"
        )
    )
    soonest: dict[int, tuple[datetime, int]] = {}
    lapsed: dict[int, int] = {}  # past their date, waiting for tonight's expiry: not spendable
    rows = (
        PointsEntry.objects.filter(customer_id__in=customer_ids, points__gt=0)
        .annotate(remaining=F("points") - Coalesce(_drawn(), Value(0)))
        .filter(remaining__gt=0)
        .order_by("customer_id", "expires_at")
        .values_list("customer_id", "expires_at", "remaining")
    )
    for customer_id, expires_at, remaining in rows:
        if expires_at <= now:
            lapsed[customer_id] = lapsed.get(customer_id, 0) + remaining
            continue
        first = soonest.get(customer_id)
        if first is None:
            soonest[customer_id] = (expires_at, remaining)
        elif first[0].date() == expires_at.date():
            soonest[customer_id] = (first[0], first[1] + remaining)
    return {
        cid: PointsSummary(
            max(balances.get(cid, 0) - lapsed.get(cid, 0), 0),
            soonest.get(cid, (None, 0))[0],
            soonest.get(cid, (None, 0))[1],
        )
        for cid in customer_ids
    }


def points_summary(customer_id: int) -> PointsSummary:
    return points_summaries([customer_id])[customer_id]


def points_history(customer_id: int) -> QuerySet[PointsEntry]:
    return PointsEntry.objects.filter(customer_id=customer_id)


def points_expiring_totals(*, now: datetime, within_days: int) -> list[tuple[int, int, datetime]]:
    """[(customer_id, points, soonest expiry)] of what remains in batches expiring in the window."""
    rows = (
        PointsEntry.objects.filter(
            points__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=within_days)
        )
        .annotate(remaining=F("points") - Coalesce(_drawn(), Value(0)))
        .filter(remaining__gt=0)
        .order_by("customer_id", "expires_at")
        .values_list("customer_id", "expires_at", "remaining")
    )
    totals: dict[int, list] = {}
    for customer_id, expires_at, remaining in rows.iterator(chunk_size=2000):
        entry = totals.setdefault(customer_id, [0, expires_at])
        entry[0] += remaining
    return [(cid, points, when) for cid, (points, when) in totals.items()]


def loyalty_figures(*, now: datetime | None = None) -> dict:
    """Points outstanding, and points expiring within 30 days, for the settings page."""
    now = now or timezone.now()
    outstanding = PointsBalance.objects.aggregate(total=Sum("balance"))["total"] or 0
    expiring = (
        PointsEntry.objects.filter(
            points__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=30)
        )
        .annotate(remaining=F("points") - Coalesce(_drawn(), Value(0)))
        .aggregate(total=Sum("remaining"))["total"]
        or 0
    )
    return {"outstanding": outstanding, "expiring_30": expiring}


def points_panel(customer_id: int, *, last: int = 5) -> dict:
    """The customer page's points panel: balance, soonest expiry and the last entries."""
    return {
        "summary": points_summary(customer_id),
        "entries": list(points_history(customer_id).order_by("-created_at", "-id")[:last]),
        "adjust_key": uuid4().hex,  # the adjustment form's idempotency key
    }
