"""Telegram Bot API: the exact sendMessage request, error mapping, the signed /start deep link,
and the webhook guarded by the secret-token header.

A pytest-httpserver stands in for api.telegram.org: POST /bot<token>/sendMessage with JSON
`{"chat_id", "text", ...}`, answered `{"ok": true, "result": {"message_id": …}}`.
"""

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from channels.models import InboundMessage, Message, MessageStatus
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.telegram_link import (
    telegram_link_bind,
    telegram_link_for,
    telegram_token_for,
    telegram_webhook_url,
)
from customers.models import ChannelIdentity, Consent, ConsentChange, ConsentStatus
from tests.factories import ChannelIdentityFactory, CustomerFactory

pytestmark = pytest.mark.django_db

BOT_TOKEN = "7012345678:AAH-test_token"
SEND_PATH = f"/bot{BOT_TOKEN}/sendMessage"
SECRET = "hook-secret_ABC-123"
HOOK = "/hooks/telegram/"
CHAT_ID = 523987441


@pytest.fixture
def telegram(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.TELEGRAM_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "KaskadShopBot"
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    reset_providers()
    return httpserver


@pytest.fixture
def bound_customer(db):
    customer = CustomerFactory(locale="ru-RU")
    ChannelIdentityFactory(customer=customer, channel="telegram", address=str(CHAT_ID))
    Consent.objects.create(customer=customer, channel="telegram", status="opted_in")
    return customer


def send(customer, body="Ваш заказ 1042 готов", **kwargs):
    return message_send(
        customer=customer,
        channel="telegram",
        category="transactional",
        source="api",
        body=body,
        **kwargs,
    )


def post_update(client, update, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return client.post(HOOK, json.dumps(update), content_type="application/json", **headers)


def text_update(text, *, update_id=900001, message_id=77, chat_id=CHAT_ID, chat_type="private"):
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"},
            "chat": {"id": chat_id, "first_name": "Анна", "type": chat_type},
            "date": 1741000000,
            "text": text,
        },
    }


def start_token_of(link):
    return parse_qs(urlsplit(link).query)["start"][0]


# --- sending ------------------------------------------------------------------------------------


def test_a_message_is_posted_to_send_message_for_the_bound_chat(telegram, bound_customer):
    telegram.expect_request(
        SEND_PATH,
        method="POST",
        headers={"Content-Type": "application/json"},
        json={"chat_id": CHAT_ID, "text": "Ваш заказ 1042 готов"},
    ).respond_with_json({"ok": True, "result": {"message_id": 4711, "date": 1741000000}})
    message = send(bound_customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id) == (
        "sent",
        "telegram",
        f"{CHAT_ID}:4711",
    )
    telegram.check_assertions()


def test_parse_mode_and_link_buttons_are_sent_only_when_the_payload_asks(telegram, bound_customer):
    telegram.expect_request(
        SEND_PATH,
        method="POST",
        json={
            "chat_id": CHAT_ID,
            "text": "<b>Скидка 10%</b>",
            "parse_mode": "HTML",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "В магазин", "url": "https://shop.example/sale"}],
                    [{"text": "Да", "callback_data": "y"}, {"text": "Нет", "callback_data": "n"}],
                ]
            },
        },
    ).respond_with_json({"ok": True, "result": {"message_id": 1}})
    payload = {
        "parse_mode": "HTML",
        "buttons": [
            {"text": "В магазин", "url": "https://shop.example/sale"},
            [{"text": "Да", "callback_data": "y"}, {"text": "Нет", "callback_data": "n"}],
        ],
    }
    message = send(bound_customer, body="<b>Скидка 10%</b>", payload=payload)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    telegram.check_assertions()


def test_a_user_who_blocked_the_bot_fails_the_message_at_once(telegram, bound_customer, enqueued):
    telegram.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        status=403,
    )
    message = send(bound_customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == "telegram: HTTP 403: Forbidden: bot was blocked by the user"
    assert enqueued == []


def test_too_many_requests_is_retried_after_telegrams_retry_after(
    telegram, bound_customer, enqueued
):
    telegram.expect_request(SEND_PATH, method="POST").respond_with_json(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 17",
            "parameters": {"retry_after": 17},
        },
        status=429,
    )
    message = send(bound_customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "retry after 17" in message.status_reason
    assert enqueued == [([message.pk], 17.0)]


def test_a_telegram_outage_is_retried_with_backoff(telegram, bound_customer, enqueued):
    telegram.expect_request(SEND_PATH, method="POST").respond_with_data("Bad Gateway", status=502)
    message = send(bound_customer)
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert enqueued == [([message.pk], 10)]


# --- the deep link ------------------------------------------------------------------------------


def test_the_deep_link_opens_the_bot_with_a_start_token_telegram_accepts(telegram):
    customer = CustomerFactory()
    link = telegram_link_for(customer)
    assert link.startswith("https://t.me/KaskadShopBot?start=")
    token = start_token_of(link)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)


def test_the_token_stays_within_64_characters_for_very_large_customer_ids(telegram):
    customer = CustomerFactory.build(pk=62**6 - 1)
    assert len(telegram_token_for(customer)) <= 64


def test_link_then_start_binds_the_chat_opts_in_and_queues_a_confirmation(telegram, client):
    customer = CustomerFactory(locale="ru-RU")
    token = start_token_of(telegram_link_for(customer))

    response = post_update(client, text_update(f"/start {token}"))

    assert response.status_code == 200
    identity = ChannelIdentity.objects.get(channel="telegram", address=str(CHAT_ID))
    assert identity.customer == customer
    consent = Consent.objects.get(customer=customer, channel="telegram")
    assert (consent.status, consent.source) == ("opted_in", "telegram:/start")
    confirmation = Message.objects.get(customer=customer)
    assert (confirmation.channel, confirmation.category, confirmation.source) == (
        "telegram",
        "transactional",
        "system",
    )
    assert (confirmation.status, confirmation.address) == ("queued", str(CHAT_ID))
    assert confirmation.body.startswith("Готово!")
    assert not InboundMessage.objects.exists()

    # ...and the confirmation goes to that chat.
    telegram.expect_request(
        SEND_PATH, method="POST", json={"chat_id": CHAT_ID, "text": confirmation.body}
    ).respond_with_json({"ok": True, "result": {"message_id": 78}})
    messages_deliver([confirmation.pk])
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT
    telegram.check_assertions()


def test_a_redelivered_start_update_binds_and_confirms_once(telegram, client):
    customer = CustomerFactory()
    update = text_update(f"/start {start_token_of(telegram_link_for(customer))}")
    post_update(client, update)
    assert post_update(client, update).status_code == 200
    assert Message.objects.filter(customer=customer).count() == 1
    assert ConsentChange.objects.filter(customer=customer, channel="telegram").count() == 1
    assert ChannelIdentity.objects.filter(channel="telegram").count() == 1


def test_a_chat_already_bound_to_another_customer_moves_to_the_linked_one(telegram):
    earlier = CustomerFactory()
    ChannelIdentityFactory(customer=earlier, channel="telegram", address=str(CHAT_ID))
    customer = CustomerFactory()
    assert telegram_link_bind(token=telegram_token_for(customer), chat_id=CHAT_ID) == customer
    assert (
        ChannelIdentity.objects.get(channel="telegram", address=str(CHAT_ID)).customer == customer
    )


def test_a_chat_that_wrote_before_its_link_moves_from_the_anonymous_customer(telegram, client):
    post_update(client, text_update("Здравствуйте", message_id=1))
    anonymous = InboundMessage.objects.get().customer
    assert anonymous.external_id == f"telegram:{CHAT_ID}"
    customer = CustomerFactory()
    post_update(client, text_update(f"/start {telegram_token_for(customer)}", message_id=2))
    assert (
        ChannelIdentity.objects.get(channel="telegram", address=str(CHAT_ID)).customer == customer
    )


def test_an_expired_token_binds_nothing(telegram, monkeypatch):
    customer = CustomerFactory()
    month_ago = time.time() - 31 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: month_ago)
    token = telegram_token_for(customer)
    monkeypatch.undo()
    assert telegram_link_bind(token=token, chat_id=CHAT_ID) is None
    assert not ChannelIdentity.objects.filter(channel="telegram").exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: "1" + token[1:] if token[0] != "1" else "2" + token[1:],  # another customer
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # altered signature
        lambda token: token.replace("-", ":", 2),  # Django's own form, not ours
        lambda token: "garbage",
        lambda token: "",
    ],
)
def test_a_forged_or_altered_token_binds_nothing(telegram, tamper):
    customer = CustomerFactory()
    assert telegram_link_bind(token=tamper(telegram_token_for(customer)), chat_id=CHAT_ID) is None
    assert not ChannelIdentity.objects.filter(channel="telegram").exists()
    assert not Consent.objects.filter(channel="telegram").exists()


def test_a_link_signed_for_another_purpose_binds_nothing(telegram):
    customer = CustomerFactory()
    other = signing.TimestampSigner(salt="unsubscribe").sign("1").replace(":", "-")
    assert telegram_link_bind(token=other, chat_id=CHAT_ID) is None
    assert customer.identities.count() == 0


def test_an_erased_customers_link_binds_nothing(telegram):
    from django.utils import timezone

    customer = CustomerFactory(erased_at=timezone.now())
    assert telegram_link_bind(token=telegram_token_for(customer), chat_id=CHAT_ID) is None


def test_start_with_a_bad_token_is_kept_as_an_inbound_message(telegram, client):
    post_update(client, text_update("/start not-a-token"))
    inbound = InboundMessage.objects.get()
    assert inbound.body == "/start not-a-token"
    assert not Consent.objects.filter(channel="telegram", status="opted_in").exists()


# --- the webhook --------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_an_update_without_the_secret_token_is_forbidden_and_stores_nothing(
    telegram, client, secret
):
    customer = CustomerFactory()
    update = text_update(f"/start {telegram_token_for(customer)}")
    response = post_update(client, update, secret=secret)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert not ChannelIdentity.objects.filter(channel="telegram").exists()
    assert not InboundMessage.objects.exists()


def test_without_a_configured_secret_every_update_is_forbidden(telegram, client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert post_update(client, text_update("hi"), secret="").status_code == 403


def test_a_text_from_a_bound_chat_is_an_inbound_message_of_that_customer(
    telegram, client, bound_customer
):
    assert post_update(client, text_update("Где мой заказ?")).status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.customer, inbound.channel, inbound.provider, inbound.address) == (
        bound_customer,
        "telegram",
        "telegram",
        str(CHAT_ID),
    )
    assert (inbound.body, inbound.provider_message_id) == ("Где мой заказ?", f"{CHAT_ID}:77")
    assert inbound.payload["update_id"] == 900001
    assert inbound.received_at.timestamp() == 1741000000


def test_a_redelivered_update_is_stored_once(telegram, client, bound_customer):
    post_update(client, text_update("Где мой заказ?"))
    assert post_update(client, text_update("Где мой заказ?")).status_code == 200
    assert InboundMessage.objects.count() == 1


def test_a_text_from_an_unknown_chat_creates_a_customer_with_that_chat(telegram, client):
    post_update(client, text_update("Здравствуйте", chat_id=111222333))
    inbound = InboundMessage.objects.get()
    assert inbound.customer.external_id == "telegram:111222333"
    assert inbound.customer.identities.get().address == "111222333"


def test_messages_in_groups_are_ignored(telegram, client):
    response = post_update(client, text_update("hi all", chat_id=-100123, chat_type="supergroup"))
    assert response.status_code == 200
    assert not InboundMessage.objects.exists()


def test_blocking_the_bot_opts_the_customer_out_of_telegram(telegram, client, bound_customer):
    update = {
        "update_id": 900002,
        "my_chat_member": {
            "chat": {"id": CHAT_ID, "type": "private"},
            "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Анна"},
            "date": 1741000000,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True}},
        },
    }
    assert post_update(client, update).status_code == 200
    consent = Consent.objects.get(customer=bound_customer, channel="telegram")
    assert (consent.status, consent.source) == (ConsentStatus.OPTED_OUT, "telegram:blocked")


def test_an_edited_message_is_acknowledged_and_ignored(telegram, client, bound_customer):
    update = {"update_id": 900003, "edited_message": text_update("edited")["message"]}
    assert post_update(client, update).status_code == 200
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"message": {}}, "update_id"),
        ({"update_id": 1, "message": {"message_id": 5, "chat": {}}}, "message.chat.id"),
        (
            {"update_id": 1, "message": {"chat": {"id": 5, "type": "private"}, "text": "x"}},
            "message.message_id",
        ),
    ],
)
def test_a_malformed_update_is_a_400_naming_the_field(telegram, client, update, field):
    response = post_update(client, update)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not InboundMessage.objects.exists()


def test_the_webhook_url_for_set_webhook_is_under_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://kaskad.example"
    assert telegram_webhook_url() == "https://kaskad.example/hooks/telegram/"
