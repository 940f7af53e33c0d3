"""Viber REST Bot API: the exact send_message request, status mapping, and the signed webhook.

A pytest-httpserver stands in for chatapi.viber.com/pa: POST /send_message with
`X-Viber-Auth-Token` and JSON `{"receiver", "min_api_version", "sender": {"name"}, "type": "text",
"text"}`, answered HTTP 200 with `{"status": 0, "message_token": …}` or a non-zero status.
Callbacks carry `X-Viber-Content-Signature`: hex HMAC-SHA256 of the body keyed with the token.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from channels.models import InboundMessage, MessageStatus, MessageStatusChange
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from customers.models import Consent, ConsentChange

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "4453b6ac12345678-e02603ca1234abcd-f9d2b3a1e1234567"
VIBER_USER = "01234567890A=="
HOOK = "/hooks/viber/"
TOKEN = 5098034272017990000  # Viber's message tokens are 64-bit integers


@pytest.fixture
def viber(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.VIBER_BASE_URL = httpserver.url_for("/pa")
    settings.VIBER_AUTH_TOKEN = AUTH_TOKEN
    settings.VIBER_SENDER_NAME = "Kaskad Shop"
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    reset_providers()
    return httpserver


@pytest.fixture
def customer(reachable_customer):
    return reachable_customer("viber", address=VIBER_USER)


def send(customer, body="Ваш заказ 1042 готов"):
    return message_send(
        customer=customer, channel="viber", category="transactional", source="api", body=body
    )


def sent_message(viber, customer, token=TOKEN):
    viber.expect_oneshot_request("/pa/send_message", method="POST").respond_with_json(
        {"status": 0, "status_message": "ok", "message_token": token, "chat_hostname": "SN-1"}
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def post_callback(client, callback, key=AUTH_TOKEN, signature=None):
    raw = json.dumps(callback).encode()
    if signature is None:
        signature = hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"HTTP_X_VIBER_CONTENT_SIGNATURE": signature} if signature else {}
    return client.post(HOOK, raw, content_type="application/json", **headers)


def status_callback(event, token=TOKEN, at=1741000000123, **extra):
    return {
        "event": event,
        "timestamp": at,
        "chat_hostname": "SN-1",
        "message_token": token,
        "user_id": VIBER_USER,
        **extra,
    }


def message_callback(text="Где мой заказ?", token=4912661846655238145, sender=VIBER_USER):
    return {
        "event": "message",
        "timestamp": 1741000000123,
        "chat_hostname": "SN-1",
        "message_token": token,
        "sender": {
            "id": sender,
            "name": "Анна",
            "language": "ru",
            "country": "RU",
            "api_version": 10,
        },
        "message": {"type": "text", "text": text},
        "silent": False,
    }


# --- sending ------------------------------------------------------------------------------------


def test_a_text_is_posted_to_send_message_with_the_auth_token_header(viber, customer):
    viber.expect_request(
        "/pa/send_message",
        method="POST",
        headers={"X-Viber-Auth-Token": AUTH_TOKEN, "Content-Type": "application/json"},
        json={
            "receiver": VIBER_USER,
            "min_api_version": 1,
            "sender": {"name": "Kaskad Shop"},
            "type": "text",
            "text": "Ваш заказ 1042 готов",
        },
    ).respond_with_json(
        {"status": 0, "status_message": "ok", "message_token": TOKEN, "chat_hostname": "SN-1"}
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == (
        "sent",
        "viber",
        str(TOKEN),
    )
    viber.check_assertions()


@pytest.mark.parametrize(
    ("status", "name"),
    [(5, "receiverNotRegistered"), (6, "receiverNotSubscribed"), (2, "invalidAuthToken")],
)
def test_a_receiver_who_cannot_get_it_fails_the_message_at_once(
    viber, customer, enqueued, status, name
):
    viber.expect_request("/pa/send_message", method="POST").respond_with_json(
        {"status": status, "status_message": name}
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == f"viber: status {status} {name}"
    assert enqueued == []


@pytest.mark.parametrize(
    "answer",
    [
        ({"status": 12, "status_message": "tooManyRequests"}, 200),
        ({"status": 99, "status_message": "generalError"}, 200),
        ({"status_message": "down"}, 503),
    ],
)
def test_rate_control_general_errors_and_outages_are_retried(viber, customer, enqueued, answer):
    body, http_status = answer
    viber.expect_request("/pa/send_message", method="POST").respond_with_json(
        body, status=http_status
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.status_reason.startswith("retrying after viber:")
    assert enqueued == [([message.pk], 10)]


# --- webhook: signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["", "0" * 64, None])
def test_an_unsigned_or_forged_callback_is_forbidden_and_stores_nothing(
    viber, customer, client, signature
):
    message = sent_message(viber, customer)
    callback = status_callback("delivered")
    if signature is None:
        response = post_callback(client, callback, key="another-token")
    else:
        response = post_callback(client, callback, signature=signature)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert post_callback(client, message_callback(), signature="f" * 64).status_code == 403
    assert not InboundMessage.objects.exists()


def test_the_set_webhook_check_is_acknowledged(viber, client):
    callback = {"event": "webhook", "timestamp": 1741000000123, "message_token": 1}
    assert post_callback(client, callback).status_code == 200


# --- webhook: statuses --------------------------------------------------------------------------


def test_delivered_then_seen_moves_the_message_to_opened(viber, customer, client):
    message = sent_message(viber, customer)
    post_callback(client, status_callback("delivered", at=1741000000123))
    post_callback(client, status_callback("seen", at=1741000060000))
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert message.delivered_at == datetime.fromtimestamp(1741000000.123, tz=UTC)
    assert message.opened_at == datetime.fromtimestamp(1741000060, tz=UTC)


def test_a_late_delivered_after_seen_and_a_repeat_change_nothing(viber, customer, client):
    message = sent_message(viber, customer)
    post_callback(client, status_callback("seen"))
    changes = MessageStatusChange.objects.count()
    post_callback(client, status_callback("seen"))
    post_callback(client, status_callback("delivered"))
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert MessageStatusChange.objects.count() == changes


def test_a_failed_callback_fails_the_message_with_vibers_description(viber, customer, client):
    message = sent_message(viber, customer)
    post_callback(client, status_callback("failed", desc="failure description"))
    message.refresh_from_db()
    assert (message.status, message.status_reason) == ("failed", "failure description")


def test_a_callback_for_an_unknown_token_is_ignored(viber, client):
    assert post_callback(client, status_callback("delivered", token=1)).status_code == 200
    assert not MessageStatusChange.objects.exists()


# --- webhook: inbound and subscriptions ---------------------------------------------------------


def test_an_inbound_message_is_stored_for_the_customer_with_that_viber_id(viber, customer, client):
    assert post_callback(client, message_callback()).status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.customer, inbound.channel, inbound.provider, inbound.address) == (
        customer,
        "viber",
        "viber",
        VIBER_USER,
    )
    assert (inbound.body, inbound.provider_message_id) == ("Где мой заказ?", "4912661846655238145")
    assert inbound.received_at == datetime.fromtimestamp(1741000000.123, tz=UTC)


def test_a_repeated_inbound_callback_is_stored_once(viber, customer, client):
    post_callback(client, message_callback())
    assert post_callback(client, message_callback()).status_code == 200
    assert InboundMessage.objects.count() == 1


def test_a_message_from_an_unknown_viber_user_creates_a_customer(viber, client):
    post_callback(client, message_callback(sender="NEWUSER123=="))
    inbound = InboundMessage.objects.get()
    assert inbound.customer.identities.get().address == "NEWUSER123=="


def test_unsubscribing_opts_the_customer_out_and_subscribing_opts_them_back_in(
    viber, customer, client
):
    unsubscribed = {
        "event": "unsubscribed",
        "timestamp": 1741000000123,
        "user_id": VIBER_USER,
        "message_token": 1,
    }
    assert post_callback(client, unsubscribed).status_code == 200
    consent = Consent.objects.get(customer=customer, channel="viber")
    assert (consent.status, consent.source) == ("opted_out", "viber:unsubscribed")
    assert send(customer).status == MessageStatus.SUPPRESSED

    subscribed = {
        "event": "subscribed",
        "timestamp": 1741000100123,
        "message_token": 2,
        "user": {"id": VIBER_USER, "name": "Анна", "api_version": 10},
    }
    post_callback(client, subscribed)
    consent.refresh_from_db()
    assert (consent.status, consent.source) == ("opted_in", "viber:subscribed")
    assert ConsentChange.objects.filter(customer=customer, channel="viber").count() == 2


def test_unsubscribing_an_unknown_viber_user_changes_nothing(viber, client):
    unsubscribed = {
        "event": "unsubscribed",
        "timestamp": 1,
        "user_id": "NOBODY==",
        "message_token": 1,
    }
    assert post_callback(client, unsubscribed).status_code == 200
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("callback", "field"),
    [
        ({"timestamp": 1}, "event"),
        ({"event": "delivered", "timestamp": 1, "user_id": VIBER_USER}, "message_token"),
        ({"event": "message", "message_token": 5, "message": {"text": "x"}}, "sender.id"),
        ({"event": "unsubscribed", "message_token": 5}, "user_id"),
    ],
)
def test_a_malformed_callback_is_a_400_naming_the_field(viber, client, callback, field):
    response = post_callback(client, callback)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not InboundMessage.objects.exists()
