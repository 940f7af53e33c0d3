"""The CDNOW sample through the batch API, checked against figures computed here from the raw file
in plain Python (no database, no shared code with analytics.metrics)."""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from analytics.metrics.cohorts import cohort_table
from analytics.metrics.customers import customers_metrics
from analytics.metrics.filters import MetricFilters
from analytics.rollups.refresh import rollups_rebuild, rollups_refresh
from tests.analytics.cdnow import cdnow_load, cdnow_rows

pytestmark = pytest.mark.django_db

WHOLE = MetricFilters(date_from=dt.date(1997, 1, 1), date_to=dt.date(1998, 6, 30))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def expected_monthly() -> dict:
    orders, revenue, active = Counter(), defaultdict(Decimal), defaultdict(set)
    for cid, day, _cds, dollars in cdnow_rows():
        orders[month_of(day)] += 1
        revenue[month_of(day)] += dollars
        active[month_of(day)].add(cid)
    return {m: (orders[m], revenue[m], len(active[m])) for m in orders}


def expected_cohorts() -> dict:
    first: dict[str, dt.date] = {}
    for cid, day, _cds, _dollars in cdnow_rows():
        first[cid] = min(first.get(cid, day), day)
    cells = defaultdict(lambda: [set(), 0, Decimal(0)])
    for cid, day, _cds, dollars in cdnow_rows():
        cell = cells[(month_of(first[cid]), month_of(day))]
        cell[0].add(cid)
        cell[1] += 1
        cell[2] += dollars
    return {key: (len(c[0]), c[1], c[2]) for key, c in cells.items()}


@pytest.fixture
def cdnow(api):
    cdnow_load(api)
    rollups_refresh()


def test_repeat_purchase_rate_matches_the_raw_file(cdnow):
    per_customer = Counter(cid for cid, *_ in cdnow_rows())
    repeaters = sum(1 for n in per_customer.values() if n >= 2)
    expected = round(repeaters / len(per_customer) * 100, 2)

    totals = customers_metrics(WHOLE)["totals"]

    assert totals["active_customers"] == len(per_customer) == 2357
    assert totals["repeat_customers"] == repeaters
    assert totals["repeat_purchase_rate"] == expected
    assert totals["orders"] == 6919
    assert totals["revenue"] == sum(row[3] for row in cdnow_rows())
    assert totals["new_customers"] == 2357


def test_monthly_orders_revenue_and_active_customers_match_the_raw_file(cdnow):
    expected = expected_monthly()
    for source in ("auto", "orders"):
        series = customers_metrics(WHOLE, source=source)["series"]
        got = {
            row["bucket"]: (row["orders"], row["revenue"], row["active_customers"])
            for row in series
        }
        assert got == expected, source
        # Every customer's first purchase is in the first quarter of 1997 (the sample's design).
        assert sum(row["new_customers"] for row in series) == 2357


def test_the_cohort_table_matches_the_raw_file(cdnow):
    expected = expected_cohorts()
    for source in ("auto", "orders"):
        table = cohort_table(WHOLE, source=source)["cohorts"]
        got = {
            (c["cohort"], m["month"]): (m["customers"], m["orders"], m["revenue"])
            for c in table
            for m in c["months"]
            if m["customers"]
        }
        assert got == expected, source
    january = table[0]
    assert january["cohort"] == dt.date(1997, 1, 1)
    assert january["size"] == expected[(dt.date(1997, 1, 1), dt.date(1997, 1, 1))][0]
    second = january["months"][1]
    assert second["retention"] == round(
        expected[(dt.date(1997, 1, 1), dt.date(1997, 2, 1))][0] / january["size"] * 100, 2
    )


def test_daily_rollups_equal_the_orders_and_a_rebuild(cdnow):
    daily = MetricFilters(
        date_from=dt.date(1997, 1, 1), date_to=dt.date(1997, 3, 31), granularity="day"
    )
    from_rollups = customers_metrics(daily)["series"]
    assert from_rollups == customers_metrics(daily, source="orders")["series"]
    rollups_rebuild()
    assert customers_metrics(daily)["series"] == from_rollups
    weekly = MetricFilters(
        date_from=dt.date(1997, 1, 1), date_to=dt.date(1997, 6, 30), granularity="week"
    )
    weeks = customers_metrics(weekly)["series"]
    assert sum(w["orders"] for w in weeks) == sum(
        1 for _cid, day, *_ in cdnow_rows() if day <= dt.date(1997, 6, 30)
    )
