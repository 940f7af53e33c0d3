"""The channel performance page: the service's numbers in the charts, table and CSV; filters;
roles; a fixed number of queries whatever the number of channels."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.metrics.channels import channels_funnel
from analytics.metrics.filters import MetricFilters
from analytics.rollups.refresh import rollups_refresh
from channels.models import DeliverySettings, Message, MessageStatus
from channels.services.policy import forget_delivery_settings
from channels.services.status import message_status_apply
from customers.models import Customer
from tests.analytics.test_rollups_incremental import post_orders
from tests.factories import SegmentFactory, SegmentMembershipFactory
from workspace.models import StaffProfile

pytestmark = pytest.mark.django_db

URL = reverse("analytics:channels")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
MARCH_FILTERS = MetricFilters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def send(customer, channel: str, day: int, *statuses: tuple[str, int], parts=None) -> Message:
    """A message queued on `day` that then went through `statuses` (status, hour) by the real
    status service, which also marks its day for the rollups."""
    message = Message.objects.create(
        customer=customer,
        channel=channel,
        address="x",
        category="marketing",
        source="campaign",
        status=MessageStatus.QUEUED,
        provider=channel,
        parts=parts,
        queued_at=at(day, 9),
    )
    for status, hour in statuses:
        message_status_apply(message_id=message.pk, status=status, occurred_at=at(day, hour))
    return message


@pytest.fixture
def sends(api, django_capture_on_commit_callbacks):
    """March 2026: ann and ben get SMS (2 and 3 parts at 0.50 EUR), ann an email she clicks,
    cid an email that bounces; ann orders 3 days after her SMS. Rollups refreshed."""
    DeliverySettings.objects.create(sms_part_price=Decimal("0.5000"), sms_price_currency="EUR")
    forget_delivery_settings()
    post_orders(api, ("seed1", "ann", dt.date(2026, 1, 5), "1.00"))
    post_orders(api, ("seed2", "ben", dt.date(2026, 1, 5), "1.00"))
    post_orders(api, ("seed3", "cid", dt.date(2026, 1, 5), "1.00"))
    ann, ben, cid = (Customer.objects.get(external_id=x) for x in ("ann", "ben", "cid"))
    with django_capture_on_commit_callbacks(execute=True):
        send(ann, "sms", 3, ("sent", 9), ("delivered", 10), parts=2)
        send(ben, "sms", 3, ("sent", 9), ("failed", 11), parts=3)
        send(ann, "email", 4, ("sent", 9), ("opened", 11), ("clicked", 12))
        send(cid, "email", 4, ("sent", 9), ("delivered", 10))
    post_orders(api, ("o1", "ann", dt.date(2026, 3, 6), "10.00"))
    rollups_refresh()
    return {"ann": ann, "ben": ben, "cid": cid}


def chart_data(body: str, channel: str) -> dict:
    return json.loads(body.split(f'id="dc-chart-{channel}-data">')[1].split("</script>")[0])


def test_support_may_not_open_the_page(client_as):
    assert client_as("support").get(URL).status_code == 403


def test_the_hub_links_to_the_page(client_as):
    assert URL in client_as("marketing").get(reverse("analytics:index")).content.decode()


def test_the_page_shows_the_services_numbers(client_as, sends):
    expected = {row["channel"]: row for row in channels_funnel(MARCH_FILTERS, window_days=7)}
    page = client_as("marketing").get(URL, MARCH)
    body = page.content.decode()
    assert page.status_code == 200
    assert [row["channel"] for row in page.context["rows"]] == ["email", "sms"]
    sms = expected["sms"]
    assert (sms["sent"], sms["delivered"], sms["failed"], sms["converted"]) == (2, 1, 1, 1)
    for channel, row in expected.items():
        # The funnel chart: sent, delivered, opened, clicked, then customers converted.
        assert chart_data(body, channel)["datasets"][0]["data"] == [
            row["sent"],
            row["delivered"],
            row["opened"],
            row["clicked"],
            row["converted"],
        ]
    assert "Cost 2.50 EUR" in body  # 5 parts × 0.50
    assert "2.50 EUR per customer converted" in body
    assert "50.0 %" in body  # SMS delivery and conversion rates
    assert "<script>" not in body and 'style="' not in body  # the CSP allows neither


def test_the_csv_holds_the_services_rows(client_as, sends):
    response = client_as("marketing").get(URL, {**MARCH, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="channels-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = channels_funnel(MARCH_FILTERS, window_days=7)
    assert [r["channel"] for r in rows] == [r["channel"] for r in expected]
    sms = next(r for r in rows if r["channel"] == "sms")
    assert (sms["sent"], sms["failed"], sms["converted"], sms["sms_parts"]) == ("2", "1", "1", "5")
    assert (sms["cost"], sms["cost_currency"], sms["cost_per_conversion"]) == (
        "2.50",
        "EUR",
        "2.50",
    )
    assert sms["conversion_rate"] == "50.0"


def test_the_conversion_window_and_channel_filters_reach_the_service(client_as, sends):
    page = client_as("marketing").get(URL, {**MARCH, "channel": "sms", "window_days": "2"})
    rows = page.context["rows"]
    assert [row["channel"] for row in rows] == ["sms"]
    assert rows[0]["converted"] == 0  # ann ordered 3 days after her SMS


def test_a_segment_narrows_to_its_members(client_as, sends):
    segment = SegmentFactory(name="Only ben")
    SegmentMembershipFactory(segment=segment, customer=sends["ben"])
    page = client_as("marketing").get(URL, {**MARCH, "segment": str(segment.pk)})
    rows = page.context["rows"]
    assert [(r["channel"], r["sent"], r["failed"]) for r in rows] == [("sms", 1, 1)]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-02-30"}, "from", "Enter a valid date."),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from", "The start must not be after"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from", "at most two years"),
        ({"window_days": "0"}, "window_days", "greater than or equal to 1"),
        ({"segment": "999999"}, "segment", "Select a valid choice"),
        ({"channel": "fax"}, "channel", "Select a valid choice"),
    ],
)
def test_a_bad_filter_is_an_error_on_its_field(client_as, params, field, message):
    page = client_as("marketing").get(URL, params)
    assert page.status_code == 200
    assert message in " ".join(page.context["form"].errors[field])
    assert "Check the filters" in page.content.decode()


def test_without_rollups_the_page_says_how_to_get_them(client_as):
    body = client_as("marketing").get(URL).content.decode()
    assert "The rollups have not run yet" in body


def test_the_page_needs_the_same_few_queries_for_two_channels_or_three(
    client_as, sends, django_capture_on_commit_callbacks
):
    client = client_as("marketing")
    client.get(URL, MARCH)  # warm the session and settings caches
    with CaptureQueriesContext(connection) as two_channels:
        client.get(URL, MARCH)
    with django_capture_on_commit_callbacks(execute=True):
        send(sends["cid"], "telegram", 5, ("sent", 9), ("delivered", 10))
    rollups_refresh()
    with CaptureQueriesContext(connection) as three_channels:
        page = client.get(URL, MARCH)
    assert len(page.context["rows"]) == 3
    assert len(three_channels) == len(two_channels)
    assert len(three_channels) <= 10, [q["sql"] for q in three_channels.captured_queries]


def test_the_page_is_in_russian_for_a_russian_speaking_member(client, staff_user, sends):
    user = staff_user("marketing")
    StaffProfile.objects.update_or_create(user=user, defaults={"language": "ru"})
    client.force_login(user)
    body = client.get(URL, MARCH).content.decode()
    assert "Эффективность каналов" in body and "Доля доставленных" in body
