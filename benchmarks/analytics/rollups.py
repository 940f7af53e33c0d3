"""Rollups part: a full rebuild, then the incremental refresh after 10k new orders, each next to a
baseline measured in the same run, and the reads the dashboards make.

- rebuild: `rollups_rebuild()` (every customer's cohort, every day, every cohort month), against
  the same daily aggregate (orders, revenue, buyers per day) and the cohort table as plain SQL
  GROUP BYs over all orders, which is what a dashboard would run without rollups;
- incremental: 10,000 orders through the real batch service (so the hooks mark days dirty),
  8,000 on old days spread over the history and 2,000 today, some for new customers; then
  `rollups_refresh()`. The rollups must then equal the plain SQL again (a check, not a speed goal);
- reads: the whole history's cohort table and a year of monthly figures from the rollups, and
  the on-demand (segment-narrowed) customer figures and retention for 30 days, p95 of 5 runs.

    python -m benchmarks.analytics --only rollups [--scale 0.1]
"""

import datetime as dt
import random
from decimal import Decimal
from time import perf_counter

from benchmarks.report import goal

NAME = "rollups"
NEEDS_EVENTS = False
NEW_ORDERS = 10_000
BATCH = 1000
READ_RUNS = 5
READ_GOAL_MS = 300
SEGMENT_SHARE = 10  # % of customers in the benchmark's static segment

DAILY_SQL = """
    SELECT (placed_at AT TIME ZONE %s)::date AS day, count(*), sum(total),
           count(DISTINCT customer_id)
    FROM customers_order WHERE status NOT IN ('cancelled', 'refunded')
    GROUP BY 1
"""
COHORT_SQL = """
    WITH firsts AS (
        SELECT customer_id, date_trunc('month', min(placed_at AT TIME ZONE %s)) AS cohort
        FROM customers_order WHERE status NOT IN ('cancelled', 'refunded') GROUP BY 1
    )
    SELECT f.cohort, date_trunc('month', o.placed_at AT TIME ZONE %s), count(DISTINCT o.customer_id),
           count(*), sum(o.total)
    FROM customers_order o JOIN firsts f USING (customer_id)
    WHERE o.status NOT IN ('cancelled', 'refunded')
    GROUP BY 1, 2
"""


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = perf_counter()
    value = fn(*args, **kwargs)
    return perf_counter() - started, value


def _sql(query: str, params: tuple) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _daily_baseline() -> tuple[float, dict]:
    from django.conf import settings

    seconds, rows = _timed(_sql, DAILY_SQL, (settings.TIME_ZONE,))
    return seconds, {day: (n, Decimal(total), buyers) for day, n, total, buyers in rows}


def _daily_rollups() -> dict:
    from analytics.models import DailyRollup

    return {
        r.day: (r.orders, r.revenue, r.buyers) for r in DailyRollup.objects.filter(orders__gt=0)
    }


def _check_equal(baseline: dict) -> bool:
    rolled = _daily_rollups()
    if rolled != baseline:
        wrong = sorted(
            day for day in set(rolled) | set(baseline) if rolled.get(day) != baseline.get(day)
        )
        print(f"  MISMATCH on {len(wrong)} days, first {wrong[:3]}")
        return False
    print(f"  rollups equal the plain GROUP BY on all {len(baseline)} days")
    return True


def _new_orders(anchor: dt.datetime, customers: int) -> list:
    from customers.api.schemas import OrderIn

    rng = random.Random(13)
    orders = []
    for i in range(NEW_ORDERS):
        if i < NEW_ORDERS * 8 // 10:  # late arrivals, anywhere in the 18 months of history
            placed = anchor - dt.timedelta(days=rng.randint(1, 540), minutes=rng.randint(0, 1439))
        else:  # today's
            placed = anchor + dt.timedelta(minutes=rng.randint(0, 600))
        customer = f"bench-new-{i}" if i % 20 == 0 else f"cust-{rng.randint(1, customers):08d}"
        orders.append(
            OrderIn(
                external_id=f"bench-rollup-{i:05d}",
                customer_external_id=customer,
                status="completed",
                placed_at=placed,
                total=Decimal(rng.randint(100, 50000)) / 100,
                currency="RUB",
            )
        )
    return orders


def _segment(customers: int) -> int:
    from customers.models import Segment

    segment, _ = Segment.objects.get_or_create(
        name="Benchmark: rollups 10 %", defaults={"kind": Segment.Kind.STATIC}
    )
    _sql(
        "INSERT INTO customers_segmentmembership (segment_id, customer_id, joined_at) "
        "SELECT %s, id, now() FROM customers_customer WHERE id %% 100 < %s "
        "ON CONFLICT DO NOTHING",
        (segment.pk, SEGMENT_SHARE),
    )
    _sql("ANALYZE customers_segmentmembership", ())
    return segment.pk


def _p95_ms(fn) -> float:
    times = sorted(_timed(fn)[0] * 1000 for _ in range(READ_RUNS))
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def _reads(anchor: dt.datetime, segment_id: int) -> dict:
    from analytics.metrics.cohorts import cohort_table
    from analytics.metrics.customers import customers_metrics
    from analytics.metrics.filters import MetricFilters
    from analytics.metrics.retention import retention_metrics

    today = anchor.date()
    history = MetricFilters(date_from=today - dt.timedelta(days=560), date_to=today)
    year_end = today.replace(day=1) - dt.timedelta(days=1)
    year = MetricFilters(
        date_from=year_end.replace(year=year_end.year - 1) + dt.timedelta(days=1), date_to=year_end
    )
    last30 = dict(date_from=today - dt.timedelta(days=29), date_to=today, granularity="day")
    narrowed = MetricFilters(**last30, segment_id=segment_id)
    whole = MetricFilters(**last30)
    reads = {
        "cohort table, whole history (rollups)": lambda: cohort_table(history),
        "customer figures, 12 months by month (rollups)": lambda: customers_metrics(year),
        "customer figures, 30 days, 10 % segment (orders)": lambda: customers_metrics(narrowed),
        "retention and CRR, 30 days, 10 % segment (orders)": lambda: retention_metrics(
            MetricFilters(**{**last30, "granularity": "month"}, segment_id=segment_id)
        ),
        "retention and CRR, 30 days, whole base (orders)": lambda: retention_metrics(
            MetricFilters(**{**last30, "granularity": "month"})
        ),
        "customer figures, 30 days by day, whole base": lambda: customers_metrics(whole),
    }
    out = {}
    for what, fn in reads.items():
        out[what] = round(_p95_ms(fn), 1)
        print(f"  {what}: p95 {out[what]:.0f} ms")
    return out


def run(bench) -> dict:
    from analytics.rollups.refresh import rollups_rebuild, rollups_refresh
    from customers.services.orders import order_upsert_batch

    result: dict = {}
    print("\nRollups: full rebuild")
    _sql("ANALYZE", ())
    result["rebuild_s"], rebuilt = _timed(rollups_rebuild)
    print(f"  rebuild: {result['rebuild_s']:.1f} s ({rebuilt.as_dict()})")
    result["baseline_daily_s"], baseline = _daily_baseline()
    print(f"  baseline, the daily aggregate as one GROUP BY: {result['baseline_daily_s']:.2f} s")
    from django.conf import settings

    result["baseline_cohorts_s"], _ = _timed(_sql, COHORT_SQL, (settings.TIME_ZONE,) * 2)
    print(f"  baseline, the cohort table as one query: {result['baseline_cohorts_s']:.2f} s")
    result["rebuild_equal"] = _check_equal(baseline)

    print(f"\nRollups: {NEW_ORDERS:,} new orders (80 % on old days), then the refresh")
    orders = _new_orders(bench.anchor, bench.sizes.customers)
    started = perf_counter()
    for start in range(0, len(orders), BATCH):
        order_upsert_batch(items=orders[start : start + BATCH], source="bench")
    result["write_s"] = round(perf_counter() - started, 2)
    print(f"  written through order_upsert_batch in {result['write_s']:.1f} s")
    result["refresh_s"], refreshed = _timed(rollups_refresh)
    result["refreshed"] = refreshed.as_dict()
    print(f"  refresh: {result['refresh_s']:.1f} s ({result['refreshed']})")
    result["baseline_daily_after_s"], baseline = _daily_baseline()
    result["refresh_equal"] = _check_equal(baseline)
    result["second_refresh_s"], _ = _timed(rollups_refresh)
    print(f"  a second refresh with nothing dirty: {result['second_refresh_s']:.2f} s")

    print("\nRollups: dashboard reads (p95 of 5)")
    result["reads_ms"] = _reads(bench.anchor, _segment(bench.sizes.customers))
    return result


def goals(result: dict) -> list[dict]:
    rows = [
        goal("rollups: full rebuild", result["rebuild_s"], "s"),
        goal("  baseline: daily aggregate, one GROUP BY", result["baseline_daily_s"], "s"),
        goal("  baseline: cohort table, one query", result["baseline_cohorts_s"], "s"),
        goal("rollups: 10k orders written (hooks mark days)", result["write_s"], "s"),
        goal(
            f"rollups: incremental refresh ({result['refreshed']['days']} days)",
            result["refresh_s"],
            "s",
            f"< {result['baseline_daily_after_s'] + result['baseline_cohorts_s']:.1f}",
            result["refresh_s"] < result["baseline_daily_after_s"] + result["baseline_cohorts_s"],
        ),
        goal("rollups: refresh with nothing dirty", result["second_refresh_s"], "s"),
    ]
    for what, ms in result["reads_ms"].items():
        rows.append(goal(what, ms, "ms", f"≤ {READ_GOAL_MS}", ms <= READ_GOAL_MS))
    return rows


def ok(result: dict) -> bool:
    return bool(result["rebuild_equal"] and result["refresh_equal"])
