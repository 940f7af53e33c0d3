"""Recomputing rollups: only the dirty days (the beat job) or everything from a date (rebuild).

Each batch of days is one transaction with one grouped query per table; a batch also recomputes
the cohort table's months those days fall in, for every cohort (a month is ~1/36 of three years
of orders, one GROUP BY). Customers are handled first, because new buyers per day and the cohort
table read their acquisition cohort:

- profiles created or changed since the last run (Customer.updated_at past a watermark, less a
  margin for transactions still open then) dirty their old and new creation day;
- customers whose orders changed get their first counted order recomputed; if it moved, the old
  and new first days are dirtied (new buyers) and so is every month they ordered in (their
  orders change cohort row).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from analytics.metrics.channels import message_stage_counts
from analytics.models import (
    CohortActivity,
    CustomerRollup,
    DailyChannelRollup,
    DailyRollup,
    RollupDirtyCustomer,
    RollupDirtyDay,
    RollupState,
)
from analytics.rollups.days import (
    COUNTED_ORDERS,
    day_spans,
    local_day,
    month_spans,
    month_start,
    next_month,
    spans_q,
)
from analytics.rollups.marks import rollups_mark_days
from channels.models import Message
from customers.models import Customer, Order

CANCELLED = [Order.Status.CANCELLED, Order.Status.REFUNDED]
DAYS_PER_BATCH = 31
CUSTOMERS_PER_BATCH = 5000
# Profiles written by a transaction that was still open when the last run read the watermark.
WATERMARK_MARGIN = dt.timedelta(minutes=10)


@dataclass
class RefreshResult:
    customers: int = 0
    days: int = 0
    months: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"customers": self.customers, "days": self.days, "months": self.months}


def rollups_refresh() -> RefreshResult:
    """Recompute what writes marked dirty since the last run. Safe to run again at any time."""
    result = RefreshResult()
    _profiles_scan(result)
    while _customers_batch(result):
        pass
    while _days_batch(result):
        pass
    RollupState.objects.update_or_create(pk=1, defaults={"refreshed_at": timezone.now()})
    return result


def rollups_rebuild(*, from_day: dt.date | None = None) -> RefreshResult:
    """Recompute every customer's row, then every day from `from_day` (default: the first data)."""
    result = RefreshResult()
    started = timezone.now()
    with transaction.atomic():
        result.customers = _customers_rebuild()
        RollupDirtyCustomer.objects.filter(marked_at__lte=started).delete()
        RollupState.objects.update_or_create(pk=1, defaults={"customers_seen_until": started})
    first = _first_data_day()
    if first is None:
        return result
    start = max(first, from_day) if from_day else first
    # Whole months, so the cohort table's months are recomputed from complete data.
    start = min(start, month_start(start))
    # Up to today, or to the last order if one is dated later (a shop in another time zone).
    last_order = Order.objects.aggregate(v=Max("placed_at"))["v"]
    today = max(local_day(timezone.now()), local_day(last_order) if last_order else start)
    month = start
    while month <= today:  # a calendar month per batch: each cohort month is computed once
        days = []
        day = month
        while day < next_month(month) and day <= today:
            days.append(day)
            day += dt.timedelta(days=1)
        with transaction.atomic():
            result.months += _recompute(days)
        result.days += len(days)
        month = next_month(month)
    # Marks made while the rebuild ran may be for days it had already passed: they stay.
    RollupDirtyDay.objects.filter(day__gte=start, marked_at__lte=started).delete()
    RollupState.objects.update_or_create(pk=1, defaults={"refreshed_at": timezone.now()})
    return result


def _first_data_day() -> dt.date | None:
    firsts = [
        Order.objects.aggregate(v=Min("placed_at"))["v"],
        Customer.objects.aggregate(v=Min("created_at"))["v"],
        Message.objects.aggregate(v=Min("queued_at"))["v"],
    ]
    firsts = [local_day(v) for v in firsts if v is not None]
    return min(firsts) if firsts else None


# Customers ------------------------------------------------------------------------------------


def _profiles_scan(result: RefreshResult) -> None:
    """Creation days of profiles written since the watermark: dirty the old and the new day."""
    started = timezone.now()
    state = RollupState.objects.filter(pk=1).first()
    since = state.customers_seen_until if state and state.customers_seen_until else None
    qs = Customer.objects.annotate(day=TruncDate("created_at"))
    if since is not None:
        qs = qs.filter(updated_at__gte=since - WATERMARK_MARGIN)
    rows = list(qs.values_list("pk", "day").order_by())
    for start in range(0, len(rows), CUSTOMERS_PER_BATCH):
        chunk = dict(rows[start : start + CUSTOMERS_PER_BATCH])
        with transaction.atomic():
            stored = dict(
                CustomerRollup.objects.filter(customer_id__in=chunk).values_list(
                    "customer_id", "created_day"
                )
            )
            changed = {pk: day for pk, day in chunk.items() if stored.get(pk) != day}
            rollups_mark_days({*changed.values(), *(stored[pk] for pk in changed if pk in stored)})
            CustomerRollup.objects.bulk_create(
                [CustomerRollup(customer_id=pk, created_day=day) for pk, day in changed.items()],
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=["created_day"],
            )
            result.customers += len(changed)
    RollupState.objects.update_or_create(pk=1, defaults={"customers_seen_until": started})


def _customers_batch(result: RefreshResult) -> bool:
    """One batch of dirty customers: their acquisition cohort, and the days and months it moves."""
    with transaction.atomic():
        _lock()
        marks = list(
            RollupDirtyCustomer.objects.order_by("customer_id").values_list(
                "customer_id", "marked_at"
            )[:CUSTOMERS_PER_BATCH]
        )
        if not marks:
            return False
        ids = [customer_id for customer_id, _ in marks]
        firsts = {
            row["customer_id"]: local_day(row["first"])
            for row in Order.objects.filter(COUNTED_ORDERS, customer_id__in=ids)
            .values("customer_id")
            .annotate(first=Min("placed_at"))
            .order_by()
        }
        stored = {
            row.customer_id: row for row in CustomerRollup.objects.filter(customer_id__in=ids)
        }
        profiles = dict(
            Customer.objects.filter(pk__in=ids)
            .annotate(day=TruncDate("created_at"))
            .values_list("pk", "day")
        )
        moved, days, to_write = [], set(), []
        for customer_id in ids:
            row = stored.get(customer_id)
            first = firsts.get(customer_id)
            old = row.first_order_day if row else None
            if customer_id not in profiles:  # erased since it was marked
                continue
            if row is None or old != first:
                moved.append(customer_id)
                days.update(d for d in (old, first) if d is not None)
                to_write.append(
                    CustomerRollup(
                        customer_id=customer_id,
                        created_day=row.created_day if row else profiles[customer_id],
                        first_order_day=first,
                        cohort_month=month_start(first) if first else None,
                    )
                )
        if moved:  # every month they ordered in now counts them under another cohort
            months = (
                Order.objects.filter(customer_id__in=moved)
                .annotate(month=TruncMonth("placed_at"))
                .values_list("month", flat=True)
                .distinct()
            )
            days.update(local_day(m) for m in months)
        rollups_mark_days(days)
        CustomerRollup.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["created_day", "first_order_day", "cohort_month"],
        )
        _delete_marks(RollupDirtyCustomer, "customer_id", marks)
        result.customers += len(ids)
    return True


def _customers_rebuild() -> int:
    """Every customer's creation day and first counted order, as one INSERT … SELECT with a GROUP
    BY over customers and their orders (the SELECT is the ORM's, so it is right on both
    databases); the cohort month is then one UPDATE."""
    CustomerRollup.objects.all().delete()
    select = (
        Customer.objects.annotate(
            created=TruncDate("created_at"),
            first=TruncDate(Min("orders__placed_at", filter=~Q(orders__status__in=CANCELLED))),
        )
        .values_list("pk", "created", "first")
        .order_by()
    )
    sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(CustomerRollup._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, created_day, first_order_day) {sql}", params
        )
        count = cursor.rowcount
    CustomerRollup.objects.filter(first_order_day__isnull=False).update(
        cohort_month=TruncMonth("first_order_day")
    )
    return count


# Days -----------------------------------------------------------------------------------------


def _days_batch(result: RefreshResult) -> bool:
    with transaction.atomic():
        _lock()
        marks = list(
            RollupDirtyDay.objects.order_by("day").values_list("day", "marked_at")[:DAYS_PER_BATCH]
        )
        if not marks:
            return False
        result.months += _recompute([day for day, _ in marks])
        result.days += len(marks)
        _delete_marks(RollupDirtyDay, "day", marks)
    return True


def _lock() -> None:
    """Serialise batches across concurrent runs (a slow run and the next beat tick): two batches
    rewriting the same month's cohort cells at once would clash on its unique key."""
    RollupState.objects.get_or_create(pk=1)
    RollupState.objects.select_for_update().filter(pk=1).first()


def _delete_marks(model, key: str, marks: list[tuple]) -> None:
    """Delete the marks as read: one a write bumped meanwhile stays for the next run. Marks made
    together share a stamp, so this is one DELETE per stamp, not per mark."""
    by_stamp: dict = defaultdict(list)
    for value, marked_at in marks:
        by_stamp[marked_at].append(value)
    for marked_at, values in by_stamp.items():
        model.objects.filter(**{f"{key}__in": values, "marked_at": marked_at}).delete()


def _recompute(days: list[dt.date]) -> int:
    """Rewrite the daily rows of `days` and the cohort cells of their months. Returns the months."""
    spans = day_spans(days)
    now = timezone.now()
    daily = {day: DailyRollup(day=day, computed_at=now) for day in days}
    for row in (
        Order.objects.filter(COUNTED_ORDERS, spans_q("placed_at", spans))
        .annotate(day=TruncDate("placed_at"))
        .values("day")
        .annotate(orders=Count("pk"), revenue=Sum("total"), buyers=Count("customer", distinct=True))
        .order_by()
    ):
        if row["day"] in daily:
            daily[row["day"]].orders = row["orders"]
            daily[row["day"]].revenue = row["revenue"]
            daily[row["day"]].buyers = row["buyers"]
    for row in (
        CustomerRollup.objects.filter(first_order_day__in=days)
        .values("first_order_day")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        daily[row["first_order_day"]].new_buyers = row["n"]
    for row in (
        Customer.objects.filter(spans_q("created_at", spans))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if row["day"] in daily:
            daily[row["day"]].new_customers = row["n"]
    for row in daily.values():
        row.returning_buyers = max(row.buyers - row.new_buyers, 0)
    DailyRollup.objects.filter(day__in=days).delete()
    DailyRollup.objects.bulk_create([r for r in daily.values() if r.orders or r.new_customers])

    channel_rows = _channel_rows(spans, set(days), now)
    DailyChannelRollup.objects.filter(day__in=days).delete()
    DailyChannelRollup.objects.bulk_create(channel_rows)

    months = sorted({month_start(day) for day in days})
    _recompute_months(months)
    return len(months)


def _channel_rows(spans, days: set, now) -> list[DailyChannelRollup]:
    rows = []
    for row in (
        Message.objects.filter(spans_q("queued_at", spans))
        .annotate(day=TruncDate("queued_at"))
        .values("day", "channel")
        .annotate(**message_stage_counts())
        .order_by()
    ):
        if row["day"] not in days or not (row["sent"] or row["failed"]):
            continue
        rows.append(
            DailyChannelRollup(
                day=row["day"],
                channel=row["channel"],
                sent=row["sent"],
                delivered=row["delivered"],
                opened=row["opened"],
                clicked=row["clicked"],
                failed=row["failed"],
                sms_parts=row["sms_parts"] or 0,
                computed_at=now,
            )
        )
    return rows


def _recompute_months(months: list[dt.date]) -> None:
    """Every cohort's cell for each month: one GROUP BY over the months' orders."""
    cells: dict[tuple, dict] = defaultdict(dict)
    for row in (
        Order.objects.filter(
            COUNTED_ORDERS,
            spans_q("placed_at", month_spans(months)),
            customer__rollup__cohort_month__isnull=False,
        )
        .annotate(month=TruncMonth("placed_at"))
        .values("customer__rollup__cohort_month", "month")
        .annotate(
            customers=Count("customer", distinct=True), orders=Count("pk"), revenue=Sum("total")
        )
        .order_by()
    ):
        key = (row["customer__rollup__cohort_month"], local_day(row["month"]))
        cells[key] = row
    CohortActivity.objects.filter(month__in=months).delete()
    CohortActivity.objects.bulk_create(
        [
            CohortActivity(
                cohort_month=cohort,
                month=month,
                customers=row["customers"],
                orders=row["orders"],
                revenue=row["revenue"],
            )
            for (cohort, month), row in sorted(cells.items())
        ]
    )
