"""The message log and home in Chromium: "Show more" appends in place, charts draw, no CSP errors."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.message_log import PAGE_SIZE
from channels.models import Message
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_show_more_appends_the_next_page_and_home_draws_its_charts(signed_in_page, live_server):
    customer = CustomerFactory()
    start = timezone.now() - timedelta(hours=1)
    Message.objects.bulk_create(
        Message(
            customer=customer,
            channel="sms",
            address="+79161234567",
            body=f"Message {i}",
            category="transactional",
            source="api",
            queued_at=start + timedelta(seconds=i),
        )
        for i in range(PAGE_SIZE + 3)
    )
    page = signed_in_page("support")
    page.wait_for_selector("canvas#home-sends-chart[data-drawn='1']")

    page.goto(f"{live_server.url}/app/messages/")
    rows = page.locator("#message-rows > tr")
    assert rows.count() == PAGE_SIZE
    page.click("text=Show more")
    page.wait_for_function(
        f"document.querySelectorAll('#message-rows > tr').length === {PAGE_SIZE + 3}"
    )
    assert page.url.endswith("/app/messages/")  # appended in place
    assert page.locator("#log-pager a").count() == 0
