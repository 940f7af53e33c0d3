"""The overview dashboard (/app/analytics/): figures from the rollups equal the orders behind them,
a segment narrows them through the orders themselves, and every table downloads as CSV."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.overview import OverviewFilters, sales_by_month
from analytics.rollups.refresh import rollups_rebuild
from tests.factories import CustomerFactory, OrderFactory, SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def shop():
    """a: orders in Oct (100) and Nov (50) → new in Oct, returning in Nov; b: first order in Nov
    (30); c: a cancelled order in Nov (not counted). Only a is in the segment."""
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    OrderFactory(customer=a, placed_at=at(dt.date(2026, 10, 5)), total=Decimal("100.00"))
    OrderFactory(customer=a, placed_at=at(dt.date(2026, 11, 5)), total=Decimal("50.00"))
    OrderFactory(customer=b, placed_at=at(dt.date(2026, 11, 9)), total=Decimal("30.00"))
    OrderFactory(
        customer=c, placed_at=at(dt.date(2026, 11, 9)), total=Decimal("70.00"), status="cancelled"
    )
    segment = SegmentFactory()
    SegmentMembershipFactory(segment=segment, customer=a)
    rollups_rebuild()
    return segment


def test_months_come_from_the_rollups_and_count_new_and_returning(shop):
    months = sales_by_month(OverviewFilters(date_from=OCT, date_to=dt.date(2026, 11, 30)))
    assert months[OCT] == {"orders": 1, "revenue": Decimal("100.00"), "active": 1, "new": 1}
    assert months[NOV]["orders"] == 2 and months[NOV]["revenue"] == Decimal("80.00")
    assert (months[NOV]["active"], months[NOV]["new"]) == (2, 1)  # a returns, b is new


def test_a_segment_narrows_the_months_through_its_members_orders(shop):
    months = sales_by_month(
        OverviewFilters(date_from=OCT, date_to=dt.date(2026, 11, 30), segment_id=shop.pk)
    )
    assert months[OCT] == {"orders": 1, "revenue": Decimal("100.00"), "active": 1, "new": 1}
    assert months[NOV] == {"orders": 1, "revenue": Decimal("50.00"), "active": 1, "new": 0}


def test_the_page_shows_the_period_and_downloads_each_table(client_as, shop):
    client = client_as("marketing")
    params = {"date_from": "2026-10-01", "date_to": "2026-11-30"}
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("analytics:index"), params)
    assert page.status_code == 200
    assert len(queries) < 40  # a fixed number of grouped queries, none per row
    assert page.context["tiles"][0]["value"] == "180"
    csv = client.get(reverse("analytics:index"), params | {"format": "csv", "table": "sales"})
    lines = csv.content.decode().splitlines()
    assert lines[0] == "Month,Orders,Revenue,Active customers,New,Returning"
    assert [line.split(",") for line in lines[1:]] == [
        ["Oct 2026", "1", "100.00", "1", "1", "0"],
        ["Nov 2026", "2", "80.00", "2", "1", "1"],
    ]


def test_a_period_ending_before_it_starts_is_a_form_error(client_as):
    page = client_as("marketing").get(
        reverse("analytics:index"), {"date_from": "2026-11-01", "date_to": "2026-10-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["date_to"]


def test_the_default_period_shows_in_the_date_fields(client_as):
    from analytics.overview import overview_default_filters

    default = overview_default_filters()
    page = client_as("marketing").get(reverse("analytics:index")).content.decode()
    assert f'value="{default.date_from.isoformat()}"' in page
    assert f'value="{default.date_to.isoformat()}"' in page
