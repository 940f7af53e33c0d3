"""Customers, active and new customers, orders, revenue, AOV, purchase frequency and repeat rate.

Totals are read from orders (one grouped query) because distinct buyers do not add up across
days. The series comes from the rollups when they can answer exactly: the whole base (no segment,
no cohort) by day, or by month when the period is whole months (active customers per month are the
cohort table's column sums, since each buyer is in one cohort). Otherwise, and always when asked
with source="orders", it is one grouped query over orders.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek

from analytics.metrics import formulas
from analytics.metrics.filters import MetricFilters, bucket_start, buckets, churn_window_days
from analytics.metrics.retention import base_counts
from analytics.models import CohortActivity, CustomerRollup, DailyRollup
from analytics.rollups.days import COUNTED_ORDERS, local_day, next_month
from customers.models import Customer, Order

TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}
DAY_TRUNC = {"day": F, "week": TruncWeek, "month": TruncMonth}  # for date columns


def customers_metrics(filters: MetricFilters, *, source: str = "auto") -> dict:
    """Totals for the period and a series per bucket; `source` "orders" skips the rollups."""
    window_days = churn_window_days()
    base = base_counts(filters, start=filters.start, end=filters.end, window_days=window_days)
    totals = _period_totals(filters)
    totals |= {
        "customers": base.end,
        "new_customers": base.new,
        "new_profiles": Customer.objects.filter(
            filters.customer_q(prefix=""), created_at__gte=filters.start, created_at__lt=filters.end
        ).count(),
    }
    if source != "orders" and _rollups_answer(filters):
        series = _series_from_rollups(filters)
    else:
        series = _series_from_orders(filters)
    return {"churn_window_days": window_days, "totals": totals, "series": series}


def _period_totals(filters: MetricFilters) -> dict:
    row = (
        Order.objects.filter(
            COUNTED_ORDERS,
            filters.customer_q(),
            placed_at__gte=filters.start,
            placed_at__lt=filters.end,
        )
        .values("customer_id")
        .annotate(n=Count("pk"), spent=Sum("total"))
        .order_by()
        .aggregate(
            active=Count("customer_id"),
            repeat=Count("customer_id", filter=Q(n__gte=2)),
            orders=Sum("n"),
            revenue=Sum("spent"),
        )
    )
    return _figures(
        orders=row["orders"] or 0,
        revenue=row["revenue"] or Decimal("0"),
        active=row["active"],
    ) | {
        "repeat_customers": row["repeat"],
        "repeat_purchase_rate": formulas.repeat_purchase_rate(
            buyers=row["active"], repeat_buyers=row["repeat"]
        ),
    }


def _figures(*, orders: int, revenue: Decimal, active: int) -> dict:
    return {
        "orders": orders,
        "revenue": Decimal(revenue).quantize(Decimal("0.01")),
        "active_customers": active,
        "aov": formulas.average_order_value(revenue=revenue, orders=orders),
        "purchase_frequency": formulas.purchase_frequency(orders=orders, buyers=active),
    }


def _rollups_answer(filters: MetricFilters) -> bool:
    if filters.narrowed:
        return False
    if filters.granularity == "day":
        return True
    return (
        filters.granularity == "month"
        and filters.date_from.day == 1
        and next_month(filters.date_to).replace(day=1) - dt.timedelta(days=1) == filters.date_to
    )


def _series_from_rollups(filters: MetricFilters) -> list[dict]:
    sums: dict[dt.date, dict] = defaultdict(lambda: {"orders": 0, "revenue": Decimal(0), "new": 0})
    active: dict[dt.date, int] = defaultdict(int)
    for row in DailyRollup.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to):
        bucket = bucket_start(row.day, filters.granularity)
        sums[bucket]["orders"] += row.orders
        sums[bucket]["revenue"] += row.revenue
        sums[bucket]["new"] += row.new_buyers
        if filters.granularity == "day":
            active[bucket] = row.buyers
    if filters.granularity == "month":
        for row in (
            CohortActivity.objects.filter(month__gte=filters.date_from, month__lte=filters.date_to)
            .values("month")
            .annotate(n=Sum("customers"))
            .order_by()
        ):
            active[row["month"]] = row["n"]
    return [
        {"bucket": bucket, "new_customers": sums[bucket]["new"]}
        | _figures(
            orders=sums[bucket]["orders"], revenue=sums[bucket]["revenue"], active=active[bucket]
        )
        for bucket in buckets(filters)
    ]


def as_day(value) -> dt.date:
    """A truncated bucket as a date: aware datetimes (from datetime columns) in local time."""
    return local_day(value) if isinstance(value, dt.datetime) else value


def _series_from_orders(filters: MetricFilters) -> list[dict]:
    trunc = TRUNC[filters.granularity]
    figures = {}
    for row in (
        Order.objects.filter(
            COUNTED_ORDERS,
            filters.customer_q(),
            placed_at__gte=filters.start,
            placed_at__lt=filters.end,
        )
        .annotate(bucket=trunc("placed_at"))
        .values("bucket")
        .annotate(orders=Count("pk"), revenue=Sum("total"), active=Count("customer", distinct=True))
        .order_by()
    ):
        figures[as_day(row["bucket"])] = row
    new = {
        as_day(row["bucket"]): row["n"]
        for row in CustomerRollup.objects.filter(
            filters.customer_q(),
            first_order_day__gte=filters.date_from,
            first_order_day__lte=filters.date_to,
        )
        .annotate(bucket=DAY_TRUNC[filters.granularity]("first_order_day"))
        .values("bucket")
        .annotate(n=Count("pk"))
        .order_by()
    }
    empty = {"orders": 0, "revenue": Decimal(0), "active": 0}
    return [
        {"bucket": bucket, "new_customers": new.get(bucket, 0)}
        | _figures(
            orders=figures.get(bucket, empty)["orders"],
            revenue=figures.get(bucket, empty)["revenue"],
            active=figures.get(bucket, empty)["active"],
        )
        for bucket in buckets(filters)
    ]
