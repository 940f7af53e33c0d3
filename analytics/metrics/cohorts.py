"""Monthly cohort retention: customers grouped by the month of their first counted order, and
what each cohort did in each later month (active customers, orders, revenue).

The whole base reads CohortActivity (one small query for the whole history); a segment narrows
it to one grouped query over the segment's orders and their customers' acquisition months.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from analytics.metrics import formulas
from analytics.metrics.filters import MetricFilters
from analytics.models import CohortActivity
from analytics.rollups.days import COUNTED_ORDERS, day_start, local_day, month_start, next_month
from customers.models import Order


def cohort_table(filters: MetricFilters, *, source: str = "auto") -> dict:
    """Cohorts acquired in the period, each with its months up to the period's end.

    Returns {"cohorts": [{"cohort", "size", "months": [{"offset", "month", "customers",
    "retention", "orders", "revenue"}]}]}, where retention is % of the cohort's size (its
    customers active in month 0, which is all of them).
    """
    first = month_start(filters.date_from)
    last = month_start(filters.date_to)
    if filters.cohort is not None:
        first = last = month_start(filters.cohort)
    if source != "orders" and filters.segment_id is None:
        cells = _cells_from_rollups(first, last, month_start(filters.date_to))
    else:
        cells = _cells_from_orders(filters, first, last)
    table: dict[dt.date, dict] = defaultdict(dict)
    for (cohort, month), cell in cells.items():
        table[cohort][month] = cell
    cohorts = []
    for cohort in sorted(table):
        size = table[cohort].get(cohort, {}).get("customers", 0)
        months = []
        month, offset = cohort, 0
        while month <= month_start(filters.date_to):
            cell = table[cohort].get(month, {"customers": 0, "orders": 0, "revenue": Decimal(0)})
            months.append(
                {
                    "offset": offset,
                    "month": month,
                    "customers": cell["customers"],
                    "retention": formulas.percent(cell["customers"], size),
                    "orders": cell["orders"],
                    "revenue": Decimal(cell["revenue"]).quantize(Decimal("0.01")),
                }
            )
            month, offset = next_month(month), offset + 1
        cohorts.append({"cohort": cohort, "size": size, "months": months})
    return {"cohorts": cohorts}


def _cells_from_rollups(first: dt.date, last: dt.date, until: dt.date) -> dict:
    rows = CohortActivity.objects.filter(
        cohort_month__gte=first, cohort_month__lte=last, month__lte=until
    ).values("cohort_month", "month", "customers", "orders", "revenue")
    return {(r["cohort_month"], r["month"]): r for r in rows}


def _cells_from_orders(filters: MetricFilters, first: dt.date, last: dt.date) -> dict:
    rows = (
        Order.objects.filter(
            COUNTED_ORDERS,
            filters.customer_q(),
            customer__rollup__cohort_month__gte=first,
            customer__rollup__cohort_month__lte=last,
            placed_at__gte=day_start(first),
            placed_at__lt=day_start(next_month(month_start(filters.date_to))),
        )
        .annotate(month=TruncMonth("placed_at"))
        .values("customer__rollup__cohort_month", "month")
        .annotate(
            customers=Count("customer", distinct=True), orders=Count("pk"), revenue=Sum("total")
        )
        .order_by()
    )
    return {(r["customer__rollup__cohort_month"], local_day(r["month"])): r for r in rows}
