"""The attribution page in a real browser: the chart is drawn from its JSON under the strict CSP
(the `page` fixture fails the test on any CSP violation), and the tabs keep the filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.attribution.services import attribution_pending_add, attribution_refresh
from channels.models import Message
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_chart_is_drawn_and_the_tabs_keep_the_filters(signed_in_page, live_server):
    placed = timezone.now() - timedelta(days=1)
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=placed, total=Decimal("120.00"))
    Message.objects.create(
        customer=customer,
        channel="email",
        category="marketing",
        source="api",
        status="opened",
        queued_at=placed - timedelta(hours=5),
        opened_at=placed - timedelta(hours=4),
    )
    attribution_pending_add([order.pk])
    attribution_refresh()

    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/analytics/attribution/?channel=email")
    page.wait_for_selector("canvas#at-chart[data-drawn='1']")
    assert page.locator(".at-table tbody tr").count() == 1
    page.click("nav.tabs >> text=Linear")
    page.wait_for_url("**model=linear**")
    assert "channel=email" in page.url
    page.wait_for_selector("canvas#at-chart[data-drawn='1']")
