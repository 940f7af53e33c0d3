"""The attribution page: roles, the report as chart data and table, CSV, filters, rule changes."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.attribution.services import attribution_pending_add, attribution_refresh
from analytics.models.attribution import AttributionChannelSetting
from campaigns.broadcasts.models import BroadcastStats
from campaigns.broadcasts.services.setup import broadcast_create
from campaigns.message_templates.services import template_create
from channels.models import Message
from tests.factories import CustomerFactory, OrderFactory, SegmentFactory
from workspace.models import StaffProfile

pytestmark = pytest.mark.django_db

PLACED = timezone.now().replace(microsecond=0) - timedelta(days=1)
URL = reverse("analytics:attribution")


@pytest.fixture
def broadcast_order():
    """An order of 250 whose only touch is a clicked SMS of the broadcast "Spring =sale"; the
    broadcast kept a holdout."""
    template = template_create(name="Spring", category="marketing", variants={"sms": {"body": "x"}})
    broadcast = broadcast_create(
        name="=Spring sale",
        template=template,
        segment=SegmentFactory(),
        channel="sms",
        holdout_percent=10,
    )
    BroadcastStats.objects.create(
        broadcast=broadcast, variant=broadcast.variants.get(), audience=90, converted=9, revenue=900
    )
    BroadcastStats.objects.create(
        broadcast=broadcast, holdout=True, audience=10, converted=0, revenue=0
    )
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=PLACED, total=Decimal("250.00"))
    Message.objects.create(
        customer=customer,
        channel="sms",
        category="marketing",
        source="campaign",
        source_ref=f"broadcast:{broadcast.pk}:A",
        status="clicked",
        queued_at=PLACED - timedelta(hours=3),
        clicked_at=PLACED - timedelta(hours=2),
    )
    attribution_pending_add([order.pk])
    attribution_refresh()
    return broadcast


def test_support_may_not_open_the_page(client_as):
    assert client_as("support").get(URL).status_code == 403


def test_the_hub_links_to_the_page(client_as):
    assert URL in client_as("marketing").get(reverse("analytics:index")).content.decode()


def test_the_page_shows_the_groups_in_the_chart_data_and_the_table(client_as, broadcast_order):
    page = client_as("marketing").get(URL, {"group_by": "broadcast"})
    body = page.content.decode()
    assert page.status_code == 200
    data = json.loads(body.split('id="at-chart-data">')[1].split("</script>")[0])
    assert data["labels"] == ["=Spring sale"]
    assert data["datasets"][0]["data"] == [250.0]
    assert '<th scope="row" class="at-label" title="=Spring sale">=Spring sale</th>' in body
    assert "Uplift over the holdout" in body and "+10.00" in body  # 10 % against 0 %
    assert "<script>" not in body and 'style="' not in body  # the CSP allows neither


def test_the_csv_holds_the_tables_numbers_with_formulas_defused(client_as, broadcast_order):
    response = client_as("marketing").get(
        reverse("analytics:attribution_csv"), {"group_by": "broadcast", "model": "linear"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["broadcast", "key", "conversions", "revenue", "orders"],
        ["'=Spring sale", str(broadcast_order.pk), "1.0", "250.00", "1"],
    ]


def test_a_bad_filter_is_shown_on_its_field(client_as):
    page = client_as("marketing").get(URL, {"from": "2026-05-02", "to": "2026-05-01"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "The start must not be after the end." in body
    assert "Check the filters" in body


def test_the_page_is_in_russian_for_a_russian_speaking_member(client, staff_user, broadcast_order):
    user = staff_user("marketing")
    StaffProfile.objects.update_or_create(user=user, defaults={"language": "ru"})
    client.force_login(user)
    body = client.get(URL, {"group_by": "channel"}).content.decode()
    assert "Атрибуция" in body and "Что считается касанием" in body


def test_marketing_changes_a_channel_rule(client_as):
    client = client_as("marketing")
    response = client.post(
        reverse("analytics:attribution_setting") + "?group_by=template",
        {"channel": "email", "touch": "clicked", "window_hours": "48"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?group_by=template#touch-rules")
    rule = AttributionChannelSetting.objects.get(channel="email")
    assert (rule.touch, rule.window_hours) == ("clicked", 48)


def test_a_bad_rule_is_refused_with_the_error_on_its_field(client_as):
    response = client_as("marketing").post(
        reverse("analytics:attribution_setting"),
        {"channel": "email", "touch": "clicked", "window_hours": "0"},
    )
    assert response.status_code == 400
    assert "has-error" in response.content.decode()
    assert not AttributionChannelSetting.objects.exists()
