"""WhatsApp Business Cloud API: the exact /messages request, error mapping, and the webhook.

A pytest-httpserver stands in for graph.facebook.com. Meta's documented request is
POST /{phone-number-id}/messages with `Authorization: Bearer <token>` and a JSON body that is either
a template (outside the 24-hour window) or text (inside it); the answer carries `messages[0].id`.
The webhook is signed with `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body, app secret>`.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from channels.models import InboundMessage, Message, MessageStatus, MessageStatusChange
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from tests.factories import ChannelIdentityFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

PHONE = "+79161234567"
PHONE_NUMBER_ID = "106540352242922"
SEND_PATH = f"/v21.0/{PHONE_NUMBER_ID}/messages"
APP_SECRET = "meta-app-secret"
HOOK = "/hooks/whatsapp/"
TEMPLATE = {"name": "order_ready", "language": "ru", "params": ["Анна", "1042"]}


@pytest.fixture
def whatsapp(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.WHATSAPP_BASE_URL = httpserver.url_for("/v21.0")
    settings.WHATSAPP_TOKEN = "EAAG-system-user-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    reset_providers()
    return httpserver


@pytest.fixture
def customer(reachable_customer):
    return reachable_customer("whatsapp", address=PHONE, phone=PHONE)


def send(customer, **kwargs):
    kwargs.setdefault("payload", {"template": TEMPLATE})
    return message_send(
        customer=customer, channel="whatsapp", category="transactional", source="api", **kwargs
    )


def sent_message(whatsapp, customer, wamid="wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI"):
    whatsapp.expect_oneshot_request(SEND_PATH, method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": wamid}]}
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def error(code, message="(#%d) error", status=400):
    body = {
        "error": {
            "message": message % code if "%d" in message else message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": "see Meta docs"},
            "fbtrace_id": "AbCdEf",
        }
    }
    return json.dumps(body), status


def signed_post(client, body, secret=APP_SECRET, signature=None):
    raw = json.dumps(body).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    return client.post(HOOK, raw, content_type="application/json", **headers)


def webhook(*, statuses=(), messages=(), contacts=()):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "79990001122", "phone_number_id": PHONE_NUMBER_ID},
    }
    if statuses:
        value["statuses"] = list(statuses)
    if messages:
        value["messages"] = list(messages)
    if contacts:
        value["contacts"] = list(contacts)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"value": value, "field": "messages"}]}],
    }


def status(wamid, name, at=1741000000, **extra):
    return {
        "id": wamid,
        "status": name,
        "timestamp": str(at),
        "recipient_id": PHONE.lstrip("+"),
        **extra,
    }


# --- sending ------------------------------------------------------------------------------------


def test_a_template_message_is_posted_with_the_bearer_token_and_its_body_parameters(
    whatsapp, customer
):
    message = send(customer)
    whatsapp.expect_request(
        SEND_PATH,
        method="POST",
        headers={"Authorization": "Bearer EAAG-system-user-token"},
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "79161234567",
            "biz_opaque_callback_data": str(message.pk),
            "type": "template",
            "template": {
                "name": "order_ready",
                "language": {"code": "ru"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Анна"},
                            {"type": "text", "text": "1042"},
                        ],
                    }
                ],
            },
        },
    ).respond_with_json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "79161234567", "wa_id": "79161234567"}],
            "messages": [{"id": "wamid.TEMPLATE1", "message_status": "accepted"}],
        }
    )
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == (
        "sent",
        "whatsapp",
        "wamid.TEMPLATE1",
    )
    whatsapp.check_assertions()


def test_free_text_inside_the_24_hour_window_goes_as_a_text_message_without_link_preview(
    whatsapp, customer
):
    InboundMessage.objects.create(
        customer=customer,
        channel="whatsapp",
        provider="whatsapp",
        address=PHONE,
        body="Где мой заказ?",
        provider_message_id="wamid.IN1",
        received_at=timezone.now() - timedelta(hours=2),
    )
    message = send(customer, payload={}, body="Заказ 1042 в пути")
    whatsapp.expect_request(
        SEND_PATH,
        method="POST",
        headers={"Authorization": "Bearer EAAG-system-user-token"},
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "79161234567",
            "biz_opaque_callback_data": str(message.pk),
            "type": "text",
            "text": {"body": "Заказ 1042 в пути", "preview_url": False},
        },
    ).respond_with_json({"messaging_product": "whatsapp", "messages": [{"id": "wamid.TEXT1"}]})
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("sent", "wamid.TEXT1")
    whatsapp.check_assertions()


def test_free_text_outside_the_window_never_reaches_meta(whatsapp, customer):
    message = send(customer, payload={}, body="Привет")
    assert message.status == MessageStatus.SUPPRESSED
    assert "24-hour" in message.status_reason
    messages_deliver([message.pk])
    assert not whatsapp.log


def test_a_template_without_a_language_fails_without_calling_meta(whatsapp, customer):
    message = send(customer, payload={"template": {"name": "order_ready"}})
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "needs a name and a language" in message.status_reason
    assert not whatsapp.log


@pytest.mark.parametrize(
    ("code", "text"),
    [(131047, "(#131047) Re-engagement message"), (131026, "(#131026) Message undeliverable")],
)
def test_a_re_engagement_or_undeliverable_error_fails_the_message_at_once(
    whatsapp, customer, enqueued, code, text
):
    body, http_status = error(code, text)
    whatsapp.expect_request(SEND_PATH, method="POST").respond_with_data(
        body, status=http_status, content_type="application/json"
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == f"whatsapp: HTTP 400: {text} (code {code}): see Meta docs"
    assert enqueued == []


@pytest.mark.parametrize(
    ("code", "http_status"), [(130429, 400), (131048, 400), (80007, 400), (131000, 500)]
)
def test_rate_limits_and_meta_outages_are_retried_later(
    whatsapp, customer, enqueued, code, http_status
):
    body, _ = error(code)
    whatsapp.expect_request(SEND_PATH, method="POST").respond_with_data(
        body, status=http_status, content_type="application/json"
    )
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.send_after is not None
    assert message.status_reason.startswith("retrying after whatsapp:")
    assert f"(code {code})" in message.status_reason
    assert enqueued == [([message.pk], 10)]


def test_a_provider_without_a_token_is_not_configured(whatsapp, customer, settings):
    settings.WHATSAPP_TOKEN = ""
    reset_providers()
    message = send(customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert "WHATSAPP_TOKEN" in message.status_reason


# --- webhook: verification handshake -------------------------------------------------------------


def test_meta_verification_handshake_echoes_the_challenge(whatsapp, client):
    response = client.get(
        HOOK,
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize("verify_token", ["wrong", ""])
def test_a_handshake_with_the_wrong_verify_token_is_forbidden(whatsapp, client, verify_token):
    response = client.get(
        HOOK, {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": "1"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


# --- webhook: signatures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "sha256=" + "0" * 64,  # forged
        None,  # signed with another secret (below)
    ],
)
def test_an_unsigned_or_forged_webhook_is_forbidden_and_stores_nothing(
    whatsapp, customer, client, signature
):
    message = sent_message(whatsapp, customer)
    body = webhook(
        statuses=[status(message.provider_message_id, "delivered")],
        messages=[
            {
                "from": "79161234567",
                "id": "wamid.IN",
                "timestamp": "1741000000",
                "type": "text",
                "text": {"body": "hi"},
            }
        ],
    )
    if signature is None:
        response = signed_post(client, body, secret="another-app-secret")
    else:
        response = signed_post(client, body, signature=signature)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not InboundMessage.objects.exists()


def test_without_an_app_secret_every_webhook_is_forbidden(whatsapp, client, settings):
    settings.WHATSAPP_APP_SECRET = ""
    response = signed_post(client, webhook(), secret="")
    assert response.status_code == 403


# --- webhook: statuses --------------------------------------------------------------------------


def test_delivered_then_read_moves_the_message_to_opened(whatsapp, customer, client):
    message = sent_message(whatsapp, customer)
    wamid = message.provider_message_id
    delivered = signed_post(client, webhook(statuses=[status(wamid, "delivered", 1741000100)]))
    read = signed_post(client, webhook(statuses=[status(wamid, "read", 1741000200)]))
    assert (delivered.status_code, read.status_code) == (200, 200)
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert message.delivered_at == datetime.fromtimestamp(1741000100, tz=UTC)
    assert message.opened_at == datetime.fromtimestamp(1741000200, tz=UTC)
    assert list(message.status_changes.order_by("pk").values_list("status", "source")) == [
        ("sent", "send:whatsapp"),
        ("delivered", "webhook:whatsapp"),
        ("opened", "webhook:whatsapp"),
    ]


def test_a_late_delivered_after_read_does_not_move_the_message_back(whatsapp, customer, client):
    message = sent_message(whatsapp, customer)
    wamid = message.provider_message_id
    signed_post(client, webhook(statuses=[status(wamid, "read", 1741000200)]))
    signed_post(client, webhook(statuses=[status(wamid, "delivered", 1741000100)]))
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    assert message.delivered_at == datetime.fromtimestamp(1741000100, tz=UTC)


def test_a_repeated_status_callback_changes_nothing(whatsapp, customer, client):
    message = sent_message(whatsapp, customer)
    body = webhook(statuses=[status(message.provider_message_id, "delivered")])
    signed_post(client, body)
    changes = MessageStatusChange.objects.count()
    assert signed_post(client, body).status_code == 200
    assert MessageStatusChange.objects.count() == changes


def test_a_failed_status_records_metas_error(whatsapp, customer, client):
    message = sent_message(whatsapp, customer)
    failed = status(
        message.provider_message_id,
        "failed",
        errors=[
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Receiver is incapable of receiving this message"},
            }
        ],
    )
    signed_post(client, webhook(statuses=[failed]))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == (
        "131026 Message undeliverable: Receiver is incapable of receiving this message"
    )


def test_a_status_for_an_unknown_message_is_ignored(whatsapp, client):
    response = signed_post(client, webhook(statuses=[status("wamid.NOT-OURS", "delivered")]))
    assert response.status_code == 200
    assert not MessageStatusChange.objects.exists()


def test_a_status_carrying_our_reference_settles_a_message_whose_send_timed_out(
    whatsapp, customer, client
):
    def too_slow(request):
        time.sleep(0.8)
        return Response('{"messages": [{"id": "wamid.LATE"}]}', content_type="application/json")

    whatsapp.expect_oneshot_request(SEND_PATH, method="POST").respond_with_handler(too_slow)
    message = send(customer)
    assert messages_deliver([message.pk]).unconfirmed == 1
    time.sleep(0.4)  # the stand-in gateway serves one request at a time: let it finish this one

    update = status("wamid.LATE", "delivered", biz_opaque_callback_data=str(message.pk))
    assert signed_post(client, webhook(statuses=[update])).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("delivered", "wamid.LATE")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entry": {"id": "x"}}, "entry"),
        (webhook(statuses=[{"status": "delivered"}]), "entry[0].changes[0].value.statuses[0].id"),
        (
            webhook(messages=[{"id": "wamid.X", "type": "text", "text": {"body": "hi"}}]),
            "entry[0].changes[0].value.messages[0].from",
        ),
    ],
)
def test_a_malformed_webhook_is_a_400_naming_the_field_and_stores_nothing(
    whatsapp, client, body, field
):
    response = signed_post(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert response.json()["errors"][0]["field"] == field
    assert not InboundMessage.objects.exists()


def test_a_body_that_is_not_json_is_a_400(whatsapp, client):
    raw = b"not json"
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = client.post(
        HOOK, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


# --- webhook: inbound messages ------------------------------------------------------------------


def inbound_text(wamid="wamid.IN-1", text="Где мой заказ?", sender="79161234567", at=1741000000):
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(at),
        "type": "text",
        "text": {"body": text},
    }


def test_an_inbound_text_is_stored_for_the_customer_with_that_number(whatsapp, customer, client):
    body = webhook(
        messages=[inbound_text()],
        contacts=[{"profile": {"name": "Анна"}, "wa_id": "79161234567"}],
    )
    assert signed_post(client, body).status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.customer, inbound.channel, inbound.provider, inbound.address) == (
        customer,
        "whatsapp",
        "whatsapp",
        PHONE,
    )
    assert (inbound.body, inbound.provider_message_id) == ("Где мой заказ?", "wamid.IN-1")
    assert inbound.received_at == datetime.fromtimestamp(1741000000, tz=UTC)
    assert inbound.payload["contact"]["profile"]["name"] == "Анна"


def test_a_repeated_inbound_callback_stores_the_message_once(whatsapp, customer, client):
    body = webhook(messages=[inbound_text()])
    signed_post(client, body)
    assert signed_post(client, body).status_code == 200
    assert InboundMessage.objects.count() == 1


def test_a_tapped_quick_reply_button_is_stored_as_its_text(whatsapp, customer, client):
    tapped = {
        "from": "79161234567",
        "id": "wamid.BTN",
        "timestamp": "1741000000",
        "type": "button",
        "button": {"text": "Да, доставьте", "payload": "yes"},
    }
    signed_post(client, webhook(messages=[tapped]))
    assert InboundMessage.objects.get().body == "Да, доставьте"


def test_an_inbound_message_opens_the_window_for_free_text(whatsapp, customer, client):
    now = timezone.now()
    signed_post(client, webhook(messages=[inbound_text(at=int(now.timestamp()) - 60)]))
    message = send(customer, payload={}, body="Заказ в пути")
    assert message.status == MessageStatus.QUEUED


def test_a_message_from_an_unknown_number_creates_a_customer(whatsapp, client):
    signed_post(client, webhook(messages=[inbound_text(sender="79031234567")]))
    inbound = InboundMessage.objects.get()
    assert inbound.address == "+79031234567"
    assert inbound.customer.phone == "+79031234567"
    assert Message.objects.count() == 0


def test_a_status_and_a_message_in_one_callback_are_both_applied(whatsapp, client):
    other = CustomerFactory(phone=PHONE)
    ChannelIdentityFactory(customer=other, channel="whatsapp", address=PHONE)
    ConsentFactory(customer=other, channel="whatsapp", status="opted_in")
    message = sent_message(whatsapp, other)
    body = webhook(
        statuses=[status(message.provider_message_id, "delivered")],
        messages=[inbound_text()],
    )
    signed_post(client, body)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert InboundMessage.objects.get().customer == other
