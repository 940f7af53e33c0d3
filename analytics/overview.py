"""The analytics overview: one month-by-month picture of revenue, customers, scores and value.

Everything here reads small tables so the page stays fast on a large base:
- revenue and orders from the daily rollups (`DailyRollup`, one row a day);
- active and new customers per month from the cohort table (`CohortActivity`: each customer is in
  one cohort, so summing a month's cells over cohorts counts each active customer once);
- revenue brought by messages from `OrderAttribution` (last touch), by channel;
- NPS, CSAT and CES per month from the answers, all surveys of a kind together;
- CLV by RFM segment from `CustomerValue` (cached until the next nightly scoring).

A segment narrows revenue, orders and customers to its members: that reads orders joined to the
membership table instead of the rollups (one grouped query). A channel narrows the attributed
revenue and the survey scores to that channel.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics.models import (
    CohortActivity,
    CustomerRollup,
    DailyRollup,
    SurveyAnswer,
    SurveyKind,
)
from analytics.models.attribution import OrderAttribution
from analytics.surveys.scores import BANDS, Tally, score_of
from analytics.windows import day_start
from customers.models import Order, SegmentMembership

COUNTED = Q(status__in=[s for s in Order.Status.values if s not in ("cancelled", "refunded")])


@dataclass(frozen=True)
class OverviewFilters:
    date_from: dt.date  # the first day of a month
    date_to: dt.date  # inclusive
    segment_id: int | None = None
    channel: str = ""


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def overview_default_filters(today: dt.date | None = None) -> OverviewFilters:
    """The last 12 months, this one included."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return OverviewFilters(date_from=first, date_to=today)


def _month_key(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def sales_by_month(f: OverviewFilters) -> dict[dt.date, dict]:
    """{month: {orders, revenue, active, new}}."""
    months = {
        m: {"orders": 0, "revenue": Decimal(0), "active": 0, "new": 0}
        for m in months_between(f.date_from, f.date_to)
    }
    if f.segment_id is None:
        rows = (
            DailyRollup.objects.filter(day__gte=f.date_from, day__lte=f.date_to)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(orders=Sum("orders"), revenue=Sum("revenue"))
        )
        for row in rows:
            months[_month_key(row["month"])].update(orders=row["orders"], revenue=row["revenue"])
        cells = (
            CohortActivity.objects.filter(month__gte=f.date_from, month__lte=f.date_to)
            .values("month")
            .annotate(
                active=Sum("customers"),
                new=Sum("customers", filter=Q(cohort_month=F("month"))),
            )
        )
        for row in cells:
            months[_month_key(row["month"])].update(active=row["active"], new=row["new"] or 0)
        return months
    members = SegmentMembership.objects.filter(segment_id=f.segment_id).values("customer_id")
    orders = Order.objects.filter(
        COUNTED,
        customer_id__in=members,
        placed_at__gte=day_start(f.date_from),
        placed_at__lt=day_start(f.date_to + dt.timedelta(days=1)),
    )
    rows = (
        orders.annotate(month=TruncMonth("placed_at"))
        .values("month")
        .annotate(
            orders=Count("id"), revenue=Sum("total"), active=Count("customer_id", distinct=True)
        )
    )
    for row in rows:
        months[_month_key(row["month"])].update(
            orders=row["orders"], revenue=row["revenue"], active=row["active"]
        )
    # New customers: members whose first counted order (the rollups' cohort) is in the month.
    cohorts = (
        CustomerRollup.objects.filter(
            customer_id__in=members, cohort_month__gte=f.date_from, cohort_month__lte=f.date_to
        )
        .values("cohort_month")
        .annotate(n=Count("customer_id"))
        .order_by()
    )
    for row in cohorts:
        months[_month_key(row["cohort_month"])]["new"] = row["n"]
    return months


def attributed_by_month(f: OverviewFilters) -> dict[str, dict[dt.date, Decimal]]:
    """{channel: {month: revenue}} credited to messages by last touch."""
    rows = OrderAttribution.objects.filter(
        model="last_touch",
        placed_at__gte=day_start(f.date_from),
        placed_at__lt=day_start(f.date_to + dt.timedelta(days=1)),
    )
    if f.channel:
        rows = rows.filter(channel=f.channel)
    if f.segment_id is not None:
        members = SegmentMembership.objects.filter(segment_id=f.segment_id).values("customer_id")
        rows = rows.filter(customer_id__in=members)
    out: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for row in (
        rows.annotate(month=TruncMonth("placed_at"))
        .values("month", "channel")
        .annotate(revenue=Sum("revenue"))
        .order_by()
    ):
        out[row["channel"]][_month_key(row["month"])] = row["revenue"]
    return dict(out)


def scores_by_month(f: OverviewFilters) -> dict[str, dict[dt.date, object]]:
    """{kind: {month: Score}} over every survey of the kind, by the month answered."""
    answers = SurveyAnswer.objects.filter(
        answered_at__gte=day_start(f.date_from),
        answered_at__lt=day_start(f.date_to + dt.timedelta(days=1)),
    )
    if f.channel:
        answers = answers.filter(channel=f.channel)
    if f.segment_id is not None:
        members = SegmentMembership.objects.filter(segment_id=f.segment_id).values("customer_id")
        answers = answers.filter(customer_id__in=members)
    out: dict[str, dict[dt.date, object]] = {kind: {} for kind in SurveyKind.values}
    for kind in SurveyKind.values:
        top, bottom = BANDS[SurveyKind(kind)]
        rows = (
            answers.filter(survey__kind=kind)
            .annotate(month=TruncMonth("answered_at"))
            .values("month")
            .annotate(
                n=Count("id"),
                total=Sum("score"),
                squares=Sum(F("score") * F("score")),
                top=Count("id", filter=Q(score__gte=top)),
                bottom=Count("id", filter=Q(score__lte=bottom)),
            )
            .order_by()
        )
        for row in rows:
            tally = Tally(
                sends=0,
                responses=row["n"],
                total=row["total"] or 0,
                squares=row["squares"] or 0,
                top=row["top"],
                bottom=row["bottom"],
            )
            out[kind][_month_key(row["month"])] = score_of(kind, tally)
    return out


def clv_by_rfm_cached() -> list[dict]:
    """CLV by RFM segment; cached per nightly fit (the scores change only when it runs)."""
    from analytics.clv.selectors import clv_by_rfm_segment, clv_fit_latest

    fit = clv_fit_latest()
    if fit is None:
        return []
    key = f"analytics:clv-by-rfm:{fit.pk}:{fit.fitted_at.timestamp()}"
    rows = cache.get(key)
    if rows is None:
        rows = clv_by_rfm_segment()
        cache.set(key, rows, 24 * 3600)
    return rows
