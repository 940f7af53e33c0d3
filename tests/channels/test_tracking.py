"""Click tracking for every channel, the open pixel, and what tampered links get."""

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from channels.models import Message, MessageStatus, TrackedLink
from channels.services.status import message_status_apply, message_status_apply_by_provider_id
from channels.tracking.links import tracked_content
from channels.tracking.services import message_tracking_apply
from channels.tracking.tokens import (
    CLICK_SALT,
    click_token,
    click_url,
    open_token,
    open_url,
    preferences_url,
    unsubscribe_token,
    unsubscribe_url,
)
from channels.tracking.views import PIXEL_GIF

pytestmark = pytest.mark.django_db

BASE_URL = "https://kaskad.example"


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE_URL


def a_message(customer, channel="email", status=MessageStatus.SENT, **fields) -> Message:
    return Message.objects.create(
        customer=customer,
        channel=channel,
        address=fields.pop("address", customer.email),
        category=fields.pop("category", "marketing"),
        source="api",
        status=status,
        provider="email",
        provider_message_id=fields.pop("provider_message_id", ""),
        **fields,
    )


@pytest.fixture
def customer(reachable_customer):
    return reachable_customer("email")


# --- Rewriting links ----------------------------------------------------------------------------


def test_html_links_become_click_links_but_mailto_tel_and_unsubscribe_links_do_not(customer):
    message = a_message(customer)
    message.html = (
        "<html><body>"
        '<a class="btn" href="https://shop.example/sale?a=1&amp;b=2">Sale</a>'
        "<a href='http://shop.example/old'>Old</a>"
        '<a href="mailto:help@shop.example">Mail us</a>'
        '<a href="tel:+74951234567">Call</a>'
        f'<a href="{unsubscribe_url(message.pk)}">Unsubscribe</a>'
        f'<a href="{preferences_url(customer.pk)}">Preferences</a>'
        '<a data-notrack href="https://shop.example/terms">Terms</a>'
        '<a href="#top">Top</a>'
        "</body></html>"
    )

    _body, html = tracked_content(message)

    assert f'href="{click_url(message.pk, "https://shop.example/sale?a=1&b=2")}"' in html
    assert f"href='{click_url(message.pk, 'http://shop.example/old')}'" in html
    for kept in (
        'href="mailto:help@shop.example"',
        'href="tel:+74951234567"',
        f'href="{unsubscribe_url(message.pk)}"',
        f'href="{preferences_url(customer.pk)}"',
        'href="https://shop.example/terms"',
        'href="#top"',
    ):
        assert kept in html
    assert html.endswith(
        f'<img src="{open_url(message.pk)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;" /></body></html>'
    )


def test_bare_urls_in_an_sms_become_click_links_and_sentence_punctuation_stays_outside(
    customer,
):
    message = a_message(customer, channel="sms", address=customer.phone)
    message.body = (
        "Sale today: https://shop.example/sale. Details (https://shop.example/faq), "
        "wiki https://en.wikipedia.org/wiki/Kaskad_(band) and tel:+74951234567"
    )

    body, html = tracked_content(message)

    # Text channels get short links (tests/channels/test_short_links.py), one per URL.
    short = {
        link.url: f"{settings.PUBLIC_BASE_URL}/l/{link.code}"
        for link in TrackedLink.objects.filter(message=message)
    }
    assert body == (
        f"Sale today: {short['https://shop.example/sale']}. "
        f"Details ({short['https://shop.example/faq']}), "
        f"wiki {short['https://en.wikipedia.org/wiki/Kaskad_(band)']} "
        "and tel:+74951234567"
    )
    assert html == ""  # no pixel outside email


def test_tracking_a_message_twice_changes_nothing_the_second_time(customer):
    message = a_message(
        customer,
        body="See https://shop.example/a",
        html='<p><a href="https://shop.example/a">a</a></p>',
    )

    once = message_tracking_apply(message)
    first = (once.body, once.html)
    twice = message_tracking_apply(Message.objects.get(pk=message.pk))

    assert (twice.body, twice.html) == first
    assert first[1].count(open_url(message.pk)) == 1
    assert Message.objects.get(pk=message.pk).body == first[0]


def test_tracked_content_needs_a_saved_message(customer):
    with pytest.raises(ValueError, match="saved message"):
        tracked_content(Message(customer=customer, channel="sms", body="https://x.example"))


# --- The open pixel ------------------------------------------------------------------------------


def test_the_open_pixel_is_an_uncached_transparent_gif_that_marks_the_email_opened(customer):
    message = a_message(customer)

    response = Client().get(f"/t/o/{open_token(message.pk)}.gif")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert "no-store" in response["Cache-Control"]
    assert response.content == PIXEL_GIF
    assert response.content.startswith(b"GIF89a")
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert message.opened_at is not None
    assert message.status_changes.get(status=MessageStatus.OPENED).source == "pixel"


def test_opening_twice_records_one_open(customer):
    message = a_message(customer)
    Client().get(f"/t/o/{open_token(message.pk)}.gif")
    Client().get(f"/t/o/{open_token(message.pk)}.gif")

    assert message.status_changes.filter(status=MessageStatus.OPENED).count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "MQ:forged",
        "not-a-token",
        "Mg:" + "A" * 43,
        "..:",
    ],
)
def test_a_forged_pixel_token_is_a_404_and_changes_nothing(customer, token):
    message = a_message(customer)

    response = Client().get(f"/t/o/{token}.gif")

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_token_made_for_another_link_does_not_work_as_a_pixel(customer):
    message = a_message(customer)

    # Same message id, same key, but signed for unsubscribing.
    response = Client().get(f"/t/o/{unsubscribe_token(message.pk)}.gif")

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_pixel_for_a_deleted_message_is_still_a_gif(customer):
    message = a_message(customer)
    token = open_token(message.pk)
    message.delete()

    assert Client().get(f"/t/o/{token}.gif").content == PIXEL_GIF


# --- Click redirects -----------------------------------------------------------------------------


def test_a_click_redirects_to_the_original_url_and_marks_the_message_clicked(customer):
    message = a_message(customer, channel="sms", address=customer.phone)
    url = "https://shop.example/sale?utm_source=kaskad&utm_medium=sms"

    response = Client().get(f"/t/c/{click_token(message.pk, url)}")

    assert response.status_code == 302
    assert response["Location"] == url
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert message.clicked_at is not None
    change = message.status_changes.get(status=MessageStatus.CLICKED)
    assert (change.source, change.reason) == ("click", url)


def test_a_click_link_from_tracked_content_leads_back_to_the_link(customer):
    message = a_message(customer, html='<a href="https://shop.example/x?a=1&amp;b=2">x</a>')
    _body, html = tracked_content(message)
    tracked = html.split('href="', 1)[1].split('"', 1)[0]

    response = Client().get(tracked.removeprefix(BASE_URL))

    assert response["Location"] == "https://shop.example/x?a=1&b=2"


def test_a_click_token_with_a_changed_url_is_refused_not_redirected(customer):
    message = a_message(customer)
    genuine = click_token(message.pk, "https://shop.example/sale")
    _payload, signature = genuine.rsplit(":", 1)
    forged_payload = signing.b64_encode(
        signing.JSONSerializer().dumps([message.pk, "https://evil.example/"])
    ).decode()

    response = Client().get(f"/t/c/{forged_payload}:{signature}")

    assert response.status_code == 404
    assert "Location" not in response
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_click_token_signed_with_another_salt_is_refused(customer):
    message = a_message(customer)
    other = signing.Signer(salt="something.else").sign_object([message.pk, "https://evil.example"])

    assert Client().get(f"/t/c/{other}").status_code == 404


def test_even_a_correctly_signed_non_web_url_is_never_redirected_to(customer):
    message = a_message(customer)
    token = signing.Signer(salt=CLICK_SALT).sign_object([message.pk, "javascript:alert(1)"])

    response = Client().get(f"/t/c/{token}")

    assert response.status_code == 400
    assert "Location" not in response


def test_a_click_before_the_delivery_receipt_keeps_the_message_clicked(customer):
    message = a_message(customer, provider_message_id="gw-1")
    Client().get(f"/t/c/{click_token(message.pk, 'https://shop.example/')}")

    message_status_apply_by_provider_id(
        provider="email", provider_message_id="gw-1", status=MessageStatus.DELIVERED
    )
    message_status_apply(message_id=message.pk, status=MessageStatus.OPENED, source="pixel")

    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert message.delivered_at is not None  # the late receipt still records its time
    assert message.opened_at is not None
