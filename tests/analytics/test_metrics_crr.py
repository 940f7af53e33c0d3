import datetime as dt
from decimal import Decimal

import pytest

from analytics.metrics import formulas
from analytics.metrics.customers import customers_metrics
from analytics.metrics.filters import MetricFilters
from analytics.metrics.retention import retention_metrics
from analytics.models import AnalyticsSettings
from analytics.rollups.refresh import rollups_refresh
from tests.analytics.test_rollups_incremental import post_orders

pytestmark = pytest.mark.django_db

MARCH = MetricFilters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))


def test_crr_is_end_less_new_over_start():
    # 200 customers at the start, 190 at the end of whom 30 are new: (190 − 30) / 200 = 80 %.
    assert formulas.crr(start=200, end=190, new=30) == 80.0
    assert formulas.crr(start=0, end=5, new=5) is None
    assert formulas.churn_rate(start=200, retained=150) == 25.0
    assert formulas.average_order_value(revenue=Decimal("10"), orders=3) == Decimal("3.33")


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


@pytest.fixture
def march_base(api):
    """A 30-day window for March 2026: S counts orders in [30 Jan, 1 Mar), E in [2 Mar, 1 Apr).

    alice  10 Feb, 15 Mar   at the start and the end (retained)
    bob    20 Feb           at the start only (lost)
    carol  25 Feb, 20 Mar   at the start and the end (retained)
    dave   10 Mar           first order ever in March: new, at the end
    erin    5 Jan,  5 Mar   lapsed before the start, back in March: at the end, not new
    frank   1 Feb,  1 Mar   at the start; 1 Mar is before 2 Mar, so not at the end (lost)
    gina   15 Feb cancelled counts nowhere
    S = {alice, bob, carol, frank} = 4, E = {alice, carol, dave, erin} = 4, N = {dave} = 1,
    retained = {alice, carol} = 2.
    CRR = (4 − 1) / 4 × 100 = 75 %; retention 2 / 4 = 50 %; churn 50 %.
    """
    AnalyticsSettings.objects.create(churn_window_days=30)
    post_orders(
        api,
        ("a1", "alice", d(2, 10), "10.00"),
        ("a2", "alice", d(3, 15), "20.00"),
        ("b1", "bob", d(2, 20), "10.00"),
        ("c1", "carol", d(2, 25), "10.00"),
        ("c2", "carol", d(3, 20), "30.00"),
        ("d1", "dave", d(3, 10), "40.00"),
        ("e1", "erin", d(1, 5), "10.00"),
        ("e2", "erin", d(3, 5), "50.00"),
        ("f1", "frank", d(2, 1), "10.00"),
        ("f2", "frank", d(3, 1), "60.00"),
        ("g1", "gina", d(2, 15), "99.00", "cancelled"),
    )
    rollups_refresh()


def test_crr_on_a_hand_checked_base(march_base):
    totals = retention_metrics(MARCH)["totals"]
    assert (totals["start"], totals["end"], totals["new"], totals["retained"]) == (4, 4, 1, 2)
    assert totals["crr"] == 75.0
    assert totals["retention_rate"] == 50.0
    assert totals["churn_rate"] == 50.0
    assert totals["lost"] == 2


def test_customer_figures_on_the_same_base(march_base):
    totals = customers_metrics(MARCH)["totals"]
    # In March: alice, carol, dave, erin and frank ordered once each, 20+30+40+50+60 = 200.
    assert totals["active_customers"] == 5
    assert totals["orders"] == 5
    assert totals["revenue"] == Decimal("200.00")
    assert totals["aov"] == Decimal("40.00")
    assert totals["repeat_purchase_rate"] == 0.0
    assert totals["customers"] == 4
    assert totals["new_customers"] == 1


def test_the_window_is_a_setting(march_base):
    AnalyticsSettings.objects.update(churn_window_days=365)
    totals = retention_metrics(MARCH)["totals"]
    # A year back everyone but gina is a customer at the start except dave; all of them at the end.
    assert (totals["start"], totals["end"], totals["new"], totals["retained"]) == (5, 6, 1, 5)
    assert totals["crr"] == 100.0


def test_a_segment_narrows_the_base(march_base):
    from customers.models import Customer, Segment, SegmentMembership

    segment = Segment.objects.create(name="Feb buyers", kind=Segment.Kind.STATIC)
    for name in ("alice", "bob"):
        SegmentMembership.objects.create(
            segment=segment, customer=Customer.objects.get(external_id=name)
        )
    narrowed = MetricFilters(
        date_from=MARCH.date_from, date_to=MARCH.date_to, segment_id=segment.pk
    )
    totals = retention_metrics(narrowed)["totals"]
    assert (totals["start"], totals["end"], totals["new"], totals["retained"]) == (2, 1, 0, 1)
    assert totals["crr"] == 50.0
