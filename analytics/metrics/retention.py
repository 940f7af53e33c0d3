"""Retention, CRR and churn for a period: S, E, N and the retained, from one grouped query.

A customer at an instant is someone with a counted order in the churn window before it
(AnalyticsSettings.churn_window_days, default 180). The query reads the orders from
`start − window` to `end`, groups them by customer and flags, per customer: a customer at the start
(an order in [start − window, start)) and at the end (an order in [end − window, end)); the outer
query counts the flags. N, the customers whose first counted order ever is
in the period, is a count over their acquisition cohort (CustomerRollup, kept by the rollups).
"""

import datetime as dt
from dataclasses import asdict, dataclass

from django.db.models import Case, Count, Max, Q, Value, When

from analytics.metrics import formulas
from analytics.metrics.filters import MetricFilters, bucket_start, buckets, churn_window_days
from analytics.models import CustomerRollup
from analytics.rollups.days import COUNTED_ORDERS, local_day
from customers.models import Order


@dataclass
class BaseCounts:
    start: int  # S: customers at the start
    end: int  # E: customers at the end
    new: int  # N: first order ever in the period
    retained: int  # customers at both the start and the end

    @property
    def crr(self) -> float | None:
        return formulas.crr(start=self.start, end=self.end, new=self.new)

    def as_dict(self) -> dict:
        return asdict(self) | {
            "crr": self.crr,
            "retention_rate": formulas.retention_rate(start=self.start, retained=self.retained),
            "churn_rate": formulas.churn_rate(start=self.start, retained=self.retained),
            "lost": self.start - self.retained,
        }


def base_counts(
    filters: MetricFilters, *, start: dt.datetime, end: dt.datetime, window_days: int
) -> BaseCounts:
    window = dt.timedelta(days=window_days)

    def flag(**condition) -> Max:
        return Max(Case(When(**condition, then=Value(1)), default=Value(0)))

    row = (
        Order.objects.filter(
            COUNTED_ORDERS, filters.customer_q(), placed_at__gte=start - window, placed_at__lt=end
        )
        .values("customer_id")
        .annotate(
            at_start=flag(placed_at__lt=start),
            at_end=flag(placed_at__gte=end - window),
        )
        .order_by()
        .aggregate(
            s=Count("customer_id", filter=Q(at_start=1)),
            e=Count("customer_id", filter=Q(at_end=1)),
            retained=Count("customer_id", filter=Q(at_start=1, at_end=1)),
        )
    )
    new = CustomerRollup.objects.filter(
        filters.customer_q(),
        first_order_day__gte=local_day(start),
        first_order_day__lt=local_day(end),
    ).count()
    return BaseCounts(start=row["s"], end=row["e"], new=new, retained=row["retained"])


def retention_metrics(filters: MetricFilters) -> dict:
    """The period's S, E, N, CRR, retention and churn, and the same per bucket (one query each)."""
    window_days = churn_window_days()
    total = base_counts(filters, start=filters.start, end=filters.end, window_days=window_days)
    series = []
    for bucket in buckets(filters):
        sub = _bucket_filters(filters, bucket)
        counts = base_counts(sub, start=sub.start, end=sub.end, window_days=window_days)
        series.append({"bucket": bucket} | counts.as_dict())
    return {"churn_window_days": window_days, "totals": total.as_dict(), "series": series}


def _bucket_filters(filters: MetricFilters, bucket: dt.date) -> MetricFilters:
    day = bucket
    while day <= filters.date_to and bucket_start(day, filters.granularity) == bucket:
        day += dt.timedelta(days=1)
    return MetricFilters(
        date_from=max(bucket, filters.date_from),
        date_to=day - dt.timedelta(days=1),
        granularity=filters.granularity,
        segment_id=filters.segment_id,
        cohort=filters.cohort,
    )
