"""The cohorts page: the service's cohort table as a heatmap, the metric tabs, the average curve,
the CSV, filters, roles, and a fixed number of queries."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.metrics.cohorts import cohort_table
from analytics.metrics.filters import MetricFilters
from analytics.rollups.refresh import rollups_refresh
from customers.models import Customer
from tests.analytics.test_rollups_incremental import post_orders
from tests.factories import SegmentFactory, SegmentMembershipFactory
from workspace.models import StaffProfile

pytestmark = pytest.mark.django_db

URL = reverse("analytics:cohorts")
Q1 = {"from": "2026-01", "to": "2026-03"}


def d(month: int, day: int = 10) -> dt.date:
    return dt.date(2026, month, day)


@pytest.fixture
def orders(api):
    """January cohort: ann, ben, cid, dan (4); ann and ben come back in February, ann in March
    too. February cohort: eve (1), back in March. A cancelled order counts nowhere."""
    post_orders(
        api,
        ("a1", "ann", d(1), "10.00"),
        ("a2", "ann", d(2), "20.00"),
        ("a3", "ann", d(3), "30.00"),
        ("a4", "ann", d(3, 20), "5.00"),
        ("b1", "ben", d(1), "10.00"),
        ("b2", "ben", d(2), "15.00"),
        ("c1", "cid", d(1), "10.00"),
        ("n1", "dan", d(1), "10.00"),
        ("e1", "eve", d(2), "40.00"),
        ("e2", "eve", d(3), "40.00"),
        ("x1", "cid", d(2), "99.00", "cancelled"),
    )
    rollups_refresh()


def service_table(**narrow) -> list[dict]:
    filters = MetricFilters(date_from=d(1, 1), date_to=dt.date.today(), **narrow)
    return [c for c in cohort_table(filters)["cohorts"] if c["cohort"] <= d(3, 1)]


def test_support_may_not_open_the_page(client_as):
    assert client_as("support").get(URL).status_code == 403


def test_the_hub_links_to_the_page(client_as):
    assert URL in client_as("marketing").get(reverse("analytics:index")).content.decode()


@pytest.mark.usefixtures("orders")
def test_the_heatmap_shows_the_services_retention(client_as):
    page = client_as("marketing").get(URL, Q1)
    body = page.content.decode()
    assert page.status_code == 200
    expected = service_table()
    heatmap = page.context["heatmap"]
    assert [(r["cohort"], r["size"]) for r in heatmap] == [(d(1, 1), 4), (d(2, 1), 1)]
    assert [(c["cohort"], c["size"]) for c in expected] == [(d(1, 1), 4), (d(2, 1), 1)]
    january = heatmap[0]["cells"]
    assert [c["value"] for c in january[:3]] == [m["retention"] for m in expected[0]["months"][:3]]
    assert [c["value"] for c in january[:3]] == [100.0, 50.0, 25.0]
    # Month 0 is its own colour; the highest later cell (eve's 100 % in February's month 1) is the
    # darkest, and January's 50 % is half as dark.
    assert january[0]["heat"] == "base"
    assert heatmap[1]["cells"][1]["heat"] == 10
    assert january[1]["heat"] == 5
    assert 'class="num heat-5"' in body
    assert "<script>" not in body and 'style="' not in body  # the CSP allows neither


@pytest.mark.usefixtures("orders")
def test_the_metric_tabs_show_orders_and_revenue(client_as):
    client = client_as("marketing")
    orders = client.get(URL, {**Q1, "metric": "orders"}).context["heatmap"]
    assert [c["value"] for c in orders[0]["cells"][:3]] == [4, 2, 2]
    revenue = client.get(URL, {**Q1, "metric": "revenue"}).context["heatmap"]
    assert [str(c["value"]) for c in revenue[0]["cells"][:3]] == ["40.00", "35.00", "35.00"]
    bad = client.get(URL, {**Q1, "metric": "colour"})
    assert "Select a valid choice" in bad.content.decode()


@pytest.mark.usefixtures("orders")
def test_the_average_curve_weights_cohorts_by_size(client_as):
    page = client_as("marketing").get(URL, Q1)
    curve = {p["offset"]: p["retention"] for p in page.context["curve"]}
    # Month 1: January 2 of 4 and February 1 of 1 → 3 / 5 = 60 %.
    assert curve[0] == 100.0 and curve[1] == 60.0
    body = page.content.decode()
    data = json.loads(body.split('id="dch-chart-data">')[1].split("</script>")[0])
    assert data["datasets"][0]["data"][:2] == [100.0, 60.0]


@pytest.mark.usefixtures("orders")
def test_the_csv_holds_every_cell_of_the_service(client_as):
    response = client_as("marketing").get(URL, {**Q1, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cohorts-2026-01-2026-03.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = service_table()
    assert len(rows) == sum(len(c["months"]) for c in expected)
    assert rows[1] == {
        "cohort": "2026-01",
        "size": "4",
        "months_since": "1",
        "month": "2026-02",
        "customers": "2",
        "retention": "50.0",
        "orders": "2",
        "revenue": "35.00",
    }


@pytest.mark.usefixtures("orders")
def test_a_segment_reads_its_members_orders(client_as):
    segment = SegmentFactory(name="ann and cid")
    for name in ("ann", "cid"):
        SegmentMembershipFactory(segment=segment, customer=Customer.objects.get(external_id=name))
    page = client_as("marketing").get(URL, {**Q1, "segment": str(segment.pk)})
    heatmap = page.context["heatmap"]
    expected = service_table(segment_id=segment.pk)
    assert [(r["cohort"], r["size"]) for r in heatmap] == [(d(1, 1), 2)]
    assert [c["value"] for c in heatmap[0]["cells"][:3]] == [
        m["retention"] for m in expected[0]["months"][:3]
    ]
    assert [c["value"] for c in heatmap[0]["cells"][:3]] == [100.0, 50.0, 50.0]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13"}, "Enter a valid date."),
        ({"from": "2026-03", "to": "2026-01"}, "The first cohort must not be after the last."),
        ({"from": "2016-01", "to": "2026-01"}, "At most 60 cohorts"),
    ],
)
def test_a_bad_period_is_an_error_on_its_field(client_as, params, message):
    page = client_as("marketing").get(URL, params)
    assert page.status_code == 200
    assert message in " ".join(page.context["form"].errors["from"])
    assert "Check the filters" in page.content.decode()


def test_without_rollups_the_page_says_how_to_get_them(client_as):
    body = client_as("marketing").get(URL).content.decode()
    assert "The rollups have not run yet" in body


@pytest.mark.usefixtures("orders")
def test_the_page_needs_a_few_queries_however_many_cohorts(client_as, api):
    client = client_as("marketing")
    client.get(URL, Q1)
    with CaptureQueriesContext(connection) as two_cohorts:
        client.get(URL, Q1)
    post_orders(api, ("m1", "max", d(3), "10.00"), ("m2", "max", d(4), "10.00"))
    rollups_refresh()
    with CaptureQueriesContext(connection) as three_cohorts:
        page = client.get(URL, {**Q1, "to": "2026-04"})
    assert len(page.context["heatmap"]) == 3
    assert len(three_cohorts) == len(two_cohorts)
    assert len(three_cohorts) <= 10, [q["sql"] for q in three_cohorts.captured_queries]


@pytest.mark.usefixtures("orders")
def test_the_page_is_in_russian_for_a_russian_speaking_member(client, staff_user):
    user = staff_user("marketing")
    StaffProfile.objects.update_or_create(user=user, defaults={"language": "ru"})
    client.force_login(user)
    body = client.get(URL, Q1).content.decode()
    assert "Когорты" in body and "Месяцев после первого заказа" in body
