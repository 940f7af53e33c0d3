"""Text channels get short click links (/l/<code>); email keeps signed links."""

import pytest

from channels.models import MessageStatus, TrackedLink
from channels.services.messages import message_send
from channels.sms_encoding import sms_size

pytestmark = pytest.mark.django_db

URL = "https://shop.example/autumn-sale?utm_source=sms&utm_medium=kaskad&utm_campaign=autumn"


def send_sms(customer, body):
    return message_send(
        customer=customer, channel="sms", category="transactional", source="api", body=body
    )


def test_an_sms_link_becomes_a_short_link_that_keeps_the_sms_in_one_part(
    reachable_customer, sandbox, settings
):
    settings.PUBLIC_BASE_URL = "https://ksk.example"
    customer = reachable_customer("sms")
    message = send_sms(customer, f"Sale until Sunday: {URL}")
    link = TrackedLink.objects.get(message=message)
    assert message.body == f"Sale until Sunday: https://ksk.example/l/{link.code}"
    assert link.url == URL
    assert message.parts == sms_size(message.body).parts == 1


def test_opening_a_short_link_records_the_click_and_redirects(client, reachable_customer, sandbox):
    customer = reachable_customer("sms")
    message = send_sms(customer, f"See {URL} and again {URL}")
    assert TrackedLink.objects.filter(message=message).count() == 1  # one link per URL
    code = TrackedLink.objects.get(message=message).code
    response = client.get(f"/l/{code}")
    assert response.status_code == 302
    assert response["Location"] == URL
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert message.clicked_at is not None


@pytest.mark.parametrize("code", ["AAAAAAAAAA", "short", "../../etc", "AAAAAAAAA%21"])
def test_an_unknown_or_malformed_code_is_404(client, db, code):
    assert client.get(f"/l/{code}").status_code == 404


def test_email_keeps_signed_links_and_stores_no_rows(reachable_customer, sandbox):
    customer = reachable_customer("email")
    message = message_send(
        customer=customer, channel="email", category="transactional", source="api",
        subject="Sale", body=f"See {URL}",
    )  # fmt: skip
    assert "/t/c/" in message.body
    assert not TrackedLink.objects.exists()
