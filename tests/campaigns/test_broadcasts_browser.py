"""In a real browser (fails on any CSP violation): the broadcast wizard end to end, an error shown
on its field, the review, the launch confirmation, and the live progress bar reaching 100 % as
chunks are sent (run here, one by one, as a worker would), then the status turning to "Sent"."""

import pytest

from campaigns.broadcasts.models import Broadcast, BroadcastStatus
from campaigns.broadcasts.services.sending import broadcast_chunk_send
from campaigns.broadcasts.services.tick import broadcasts_tick
from campaigns.message_templates.services import template_create
from channels.models import DeliverySettings
from channels.services.policy import forget_delivery_settings
from customers.models import ConsentStatus
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = {
    "subject": "Hi {{ customer.first_name }}",
    "html": "<p>Sale, {{ customer.first_name }}</p>",
}


@pytest.fixture
def chunks(monkeypatch):
    """Chunk tasks are kept here instead of going to a broker; the test runs them."""
    calls = []
    monkeypatch.setattr("campaigns.broadcasts.services.launch.CHUNK_SIZE", 2)
    monkeypatch.setattr(
        "campaigns.broadcasts.services.launch.task_publish",
        lambda task, *args, **kw: calls.append(args) or True,
    )
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    yield calls
    forget_delivery_settings()


def test_wizard_to_launch_with_live_progress(signed_in_page, live_server, chunks):
    segment = SegmentFactory(name="Loyal buyers", member_count=6)
    for i in range(6):
        customer = CustomerFactory(first_name=f"Name{i}")
        ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=customer)
    template_create(name="Winter", category="marketing", variants={"email": EMAIL})

    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/broadcasts/")
    page.click("text=New broadcast")
    page.fill("#id_name", "Winter sale")
    page.select_option("#id_segment", label="Loyal buyers (6 members)")
    page.select_option("#id_template", label="Winter")
    assert not page.is_visible("#id_send_at")  # shown only for "At a time"
    page.check("#id_timing_1")
    assert page.is_visible("#id_send_at")
    page.check("#id_timing_0")
    page.fill("#id_holdout_percent", "80")
    page.click("button:has-text('Save and review')")
    error = page.locator(".field.has-error", has=page.locator("#id_holdout_percent"))
    error.wait_for()
    assert "50" in error.inner_text()
    assert not Broadcast.objects.exists()

    page.fill("#id_holdout_percent", "0")
    page.click("button:has-text('Save and review')")
    page.wait_for_selector("text=Who it reaches")
    broadcast = Broadcast.objects.get(name="Winter sale")
    assert page.locator(".bc-estimate .tile-value").first.inner_text() == "6"

    page.click("summary:has-text('Launch now')")
    page.click(".confirm-body button:has-text('Launch')")
    page.wait_for_selector("#broadcast-progress[hx-trigger]")
    assert page.locator(".bc-percent").get_attribute("data-percent") == "0.0"
    assert len(chunks) == 3  # six recipients, two per chunk

    broadcast_chunk_send(*chunks.pop(0))
    page.wait_for_selector(".bc-percent[data-percent='33.3']")
    while chunks:
        broadcast_chunk_send(*chunks.pop(0))
    page.wait_for_selector(".bc-percent[data-percent='100.0']")
    assert page.locator("progress.bc-bar").get_attribute("value") == "100.0"

    broadcasts_tick()  # nobody pending: the broadcast is sent
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.SENT
    page.wait_for_selector("#broadcast-head [data-status='sent']")
    page.wait_for_selector("#broadcast-progress:not([hx-trigger])")  # polling stopped
    assert not page.is_visible("summary:has-text('Pause')")

    page.click("text=Recipients")
    page.wait_for_selector("#recipient-rows tr >> nth=5")
    assert page.locator("#recipient-rows tr").count() == 6
