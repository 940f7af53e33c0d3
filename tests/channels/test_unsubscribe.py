"""RFC 8058 one-click unsubscribe and the customer's preference page."""

import re

import pytest
from django.test import Client

from channels.models import Message, MessageStatus
from channels.tracking.tokens import (
    preferences_token,
    preferences_url,
    unsubscribe_token,
    unsubscribe_url,
)
from customers.models import ConsentChange, ConsentStatus
from tests.factories import ChannelIdentityFactory, ConsentFactory

pytestmark = pytest.mark.django_db

BASE_URL = "https://kaskad.example"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE_URL


def sent_message(customer, channel="email") -> Message:
    return Message.objects.create(
        customer=customer,
        channel=channel,
        address=customer.email if channel == "email" else customer.phone,
        category="marketing",
        source="campaign",
        status=MessageStatus.SENT,
        provider="email",
    )


def consent(customer, channel="email") -> str:
    found = customer.consents.filter(channel=channel).first()
    return found.status if found else ConsentStatus.UNKNOWN


def strict_client() -> Client:
    """A client that, like a browser or a mail client, gets no CSRF exemption for free."""
    return Client(enforce_csrf_checks=True)


def path_of(url: str) -> str:
    return url.removeprefix(BASE_URL)


# --- One-click unsubscribe -----------------------------------------------------------------------


def test_a_one_click_post_opts_the_customer_out_and_logs_the_change(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)

    # What Gmail or Yahoo send: a POST with no cookie and no CSRF token.
    response = strict_client().post(path_of(unsubscribe_url(message.pk)), ONE_CLICK)

    assert response.status_code == 200
    assert consent(customer) == ConsentStatus.OPTED_OUT
    change = ConsentChange.objects.get(customer=customer, channel="email")
    assert (change.previous_status, change.status, change.source) == (
        "opted_in",
        "opted_out",
        "unsubscribe:one-click",
    )
    assert preferences_url(customer.pk) in response.content.decode()


def test_a_one_click_post_sent_as_multipart_works_too(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)

    # RFC 8058 allows multipart/form-data, which is the Django test client's default encoding.
    response = Client().post(path_of(unsubscribe_url(message.pk)), data=ONE_CLICK)

    assert response.status_code == 200
    assert consent(customer) == ConsentStatus.OPTED_OUT


def test_unsubscribing_from_an_sms_opts_out_of_sms_only(reachable_customer):
    customer = reachable_customer("sms")
    ConsentFactory(customer=customer, channel="email", status="opted_in")
    message = sent_message(customer, channel="sms")

    strict_client().post(path_of(unsubscribe_url(message.pk)), ONE_CLICK)

    assert consent(customer, "sms") == ConsentStatus.OPTED_OUT
    assert consent(customer, "email") == ConsentStatus.OPTED_IN


def test_unsubscribing_twice_logs_one_change(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)

    for _ in range(2):
        assert (
            strict_client().post(path_of(unsubscribe_url(message.pk)), ONE_CLICK).status_code == 200
        )

    assert ConsentChange.objects.filter(customer=customer).count() == 1


def test_opening_the_unsubscribe_link_asks_first_and_changes_nothing(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)

    response = Client().get(path_of(unsubscribe_url(message.pk)))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post"' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert consent(customer) == ConsentStatus.OPTED_IN
    assert not ConsentChange.objects.exists()


def test_the_confirmation_button_unsubscribes(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)
    browser = strict_client()
    page = browser.get(path_of(unsubscribe_url(message.pk))).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)"', page))

    response = browser.post(action, fields)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert consent(customer) == ConsentStatus.OPTED_OUT


def test_a_post_without_the_one_click_body_is_refused(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)

    response = Client().post(path_of(unsubscribe_url(message.pk)), {"something": "else"})

    assert response.status_code == 400
    assert consent(customer) == ConsentStatus.OPTED_IN


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_token_is_a_404(reachable_customer, method):
    customer = reachable_customer("email")
    message = sent_message(customer)
    token = unsubscribe_token(message.pk)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = getattr(Client(), method)(f"/u/{tampered}", ONE_CLICK)

    assert response.status_code == 404
    assert consent(customer) == ConsentStatus.OPTED_IN


def test_an_unsubscribe_link_of_a_deleted_message_is_a_404(reachable_customer):
    customer = reachable_customer("email")
    message = sent_message(customer)
    token = unsubscribe_token(message.pk)
    message.delete()

    assert Client().post(f"/u/{token}", ONE_CLICK).status_code == 404
    assert Client().get(f"/u/{token}").status_code == 404


# --- The preference page -------------------------------------------------------------------------


def test_the_preference_page_shows_every_channel_with_the_current_consent(reachable_customer):
    customer = reachable_customer("email")
    ConsentFactory(customer=customer, channel="sms", status="opted_out")

    response = Client().get(path_of(preferences_url(customer.pk)))

    assert response.status_code == 200
    page = response.content.decode()
    boxes = dict(
        re.findall(r'<input type="checkbox" name="opted_in" value="(\w+)"( checked)?', page)
    )
    assert boxes == {
        "email": " checked",
        "sms": "",
        "whatsapp": "",
        "telegram": "",
        "viber": "",
        "push": "",
        "voice": "",
    }
    assert "cu…@example.com" in page  # the address, masked
    assert customer.email not in page


def test_saving_the_preference_page_changes_consents_and_logs_them(reachable_customer):
    customer = reachable_customer("email")
    ChannelIdentityFactory(customer=customer, channel="sms", address=customer.phone)
    browser = strict_client()
    url = path_of(preferences_url(customer.pk))
    page = browser.get(url).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    # Untick email, tick SMS, leave the rest empty.
    response = browser.post(url, {"csrfmiddlewaretoken": csrf, "opted_in": ["sms"]})

    assert response.status_code == 302
    assert response["Location"] == f"{url}?saved=1"
    assert consent(customer, "email") == ConsentStatus.OPTED_OUT
    assert consent(customer, "sms") == ConsentStatus.OPTED_IN
    # A channel never opted into stays unknown: an empty box is no refusal of receipts.
    assert consent(customer, "whatsapp") == ConsentStatus.UNKNOWN
    changes = ConsentChange.objects.filter(customer=customer).order_by("channel")
    assert [(c.channel, c.status, c.source) for c in changes] == [
        ("email", "opted_out", "preference_page"),
        ("sms", "opted_in", "preference_page"),
    ]
    saved = browser.get(response["Location"]).content.decode()
    assert "Your choices are saved." in saved
    assert 'value="sms" checked' in saved


def test_the_preference_form_needs_its_csrf_token(reachable_customer):
    customer = reachable_customer("email")

    response = strict_client().post(path_of(preferences_url(customer.pk)), {"opted_in": []})

    assert response.status_code == 403
    assert consent(customer) == ConsentStatus.OPTED_IN


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_preference_token_is_a_404_page(reachable_customer, method):
    customer = reachable_customer("email")
    tampered = preferences_token(customer.pk)[:-3] + "xyz"

    response = getattr(Client(), method)(f"/preferences/{tampered}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert consent(customer) == ConsentStatus.OPTED_IN


def test_an_unsubscribe_token_does_not_open_the_preference_page(reachable_customer):
    customer = reachable_customer("email")

    # Signed by the same key for the same number, but for another purpose.
    response = Client().get(f"/preferences/{unsubscribe_token(customer.pk)}")

    assert response.status_code == 404
