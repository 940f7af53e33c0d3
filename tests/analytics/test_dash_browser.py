"""The channel and cohort dashboards in a real browser: their charts are drawn from the JSON under
the strict CSP (the `page` fixture fails the test on any CSP violation), and the cohort heatmap
keeps its first column in view while it scrolls sideways on a phone."""

import datetime as dt

import pytest

from analytics.rollups.refresh import rollups_rebuild
from channels.models import Message
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboards_draw_their_charts(signed_in_page, live_server):
    today = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    for months_ago in (2, 1, 0):
        customer = CustomerFactory()
        placed = today - dt.timedelta(days=31 * months_ago)
        OrderFactory(customer=customer, placed_at=placed)
        OrderFactory(customer=customer, placed_at=today)
        Message.objects.create(
            customer=customer,
            channel="email",
            address="x",
            category="marketing",
            source="campaign",
            status="opened",
            queued_at=placed - dt.timedelta(hours=5),
            sent_at=placed - dt.timedelta(hours=5),
            opened_at=placed - dt.timedelta(hours=4),
        )
    rollups_rebuild()  # the factories bypass the orders service, which marks days

    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/analytics/channels/")
    page.wait_for_selector("canvas#dc-chart-email[data-drawn='1']")
    assert page.locator(".dc-table tbody tr").count() == 1

    page.goto(f"{live_server.url}/app/analytics/cohorts/")
    page.wait_for_selector("canvas#dch-chart[data-drawn='1']")
    assert page.locator(".dch-heatmap tbody tr").count() == 3
    page.click("nav.tabs >> text=Orders")
    page.wait_for_url("**metric=orders**")

    page.set_viewport_size({"width": 390, "height": 844})
    wrap = page.locator(".dch-wrap")
    first = page.locator(".dch-heatmap tbody th").first
    left = first.bounding_box()["x"]
    wrap.evaluate("el => { el.scrollLeft = 200; }")
    assert abs(first.bounding_box()["x"] - left) < 1  # the cohort column is sticky
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no page-wide scroll
