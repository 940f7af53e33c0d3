"""Support's main inbox job end to end in Chromium: a customer writes to the Telegram bot, the
message appears in the open inbox within 5 s without a reload, the agent assigns it to
themselves and answers, and the answer goes out through the Telegram Bot API (a local server
stands in for api.telegram.org, as in test_telegram.py)."""

import json
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from channels.models import Conversation, Message
from channels.providers import reset_providers
from customers.models import Consent
from tests.factories import ChannelIdentityFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

BOT_TOKEN = "7012345678:AAH-test_token"
SECRET = "hook-secret_ABC-123"
CHAT_ID = 523987441


@pytest.fixture
def telegram(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.TELEGRAM_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "KaskadShopBot"
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.PROVIDER_HTTP_TIMEOUT = 2
    reset_providers()
    yield httpserver
    reset_providers()


def telegram_update(base_url: str, text: str, update_id: int, message_id: int) -> int:
    """POST an update to the real webhook, signed with the secret-token header, as Telegram does."""
    update = {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Анна", "language_code": "ru"},
            "chat": {"id": CHAT_ID, "first_name": "Анна", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }
    request = urllib.request.Request(
        f"{base_url}/hooks/telegram/",
        data=json.dumps(update).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRET,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_an_inbound_telegram_message_appears_is_assigned_and_answered(
    signed_in_page, live_server, telegram, eager_celery
):
    customer = CustomerFactory(first_name="Анна", last_name="Смирнова", locale="ru-RU")
    ChannelIdentityFactory(customer=customer, channel="telegram", address=str(CHAT_ID))
    Consent.objects.create(customer=customer, channel="telegram", status="opted_in")
    telegram.expect_request(f"/bot{BOT_TOKEN}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": 4711, "date": int(time.time())}}
    )

    page = signed_in_page("support")
    page.goto(f"{live_server.url}/app/inbox/")
    expect(page.locator(".empty-state").first).to_be_visible()

    # The customer writes; the open list shows it within 5 s, without a reload.
    page.evaluate("window.__sameDocument = true")
    assert telegram_update(live_server.url, "Где мой заказ 1042?", 900001, 77) == 200
    row = page.locator("[data-conv-link]", has_text="Где мой заказ 1042?")
    expect(row).to_be_visible(timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    expect(row).to_contain_text("Анна Смирнова")

    row.click()
    expect(page.locator("#inbox-thread")).to_contain_text("Где мой заказ 1042?")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".flash-success")).to_contain_text("Assigned to")
    conversation = Conversation.objects.get(customer=customer)
    assert conversation.assignee.groups.filter(name="support").exists()

    # A second message in the open thread arrives without a reload too.
    page.evaluate("window.__sameDocument = true")
    assert telegram_update(live_server.url, "Номер заказа 1042", 900002, 78) == 200
    expect(page.locator("#inbox-thread")).to_contain_text("Номер заказа 1042", timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True

    # Answer with Ctrl+Enter; it goes out through the Bot API to the customer's chat.
    page.fill("#reply-body", "Заказ 1042 уже в пути")
    page.press("#reply-body", "Control+Enter")
    expect(page.locator(".flash-success")).to_contain_text("Reply sent")
    expect(page.locator(".bubble-out")).to_contain_text("Заказ 1042 уже в пути")
    reply = Message.objects.get(conversation=conversation, source="agent")
    assert (reply.channel, reply.status, reply.provider_message_id) == (
        "telegram",
        "sent",
        f"{CHAT_ID}:4711",
    )
    [(request, _response)] = telegram.log
    assert json.loads(request.data) == {"chat_id": CHAT_ID, "text": "Заказ 1042 уже в пути"}
    expect(page.locator(".bubble-out .pill")).to_contain_text("sent")


def test_typing_a_slash_and_a_shortcode_inserts_the_canned_response(
    signed_in_page, live_server, reachable_customer
):
    from channels.models import CannedResponse
    from channels.services.inbound import inbound_receive

    CannedResponse.objects.create(shortcode="thanks", body="Спасибо за обращение!")
    CannedResponse.objects.create(shortcode="track", body="Трек-номер придёт в SMS.")
    conversations = []
    for i in range(2):
        customer = reachable_customer("sms", first_name=f"Клиент {i}")
        conversations.append(
            inbound_receive(
                channel="sms",
                provider="exolve",
                address=customer.phone,
                body=f"вопрос {i}",
                provider_message_id=f"b-{i}",
                payload={},
            ).conversation
        )
    page = signed_in_page("support")
    page.goto(f"{live_server.url}/app/inbox/{conversations[1].pk}/")
    page.click("#reply-body")
    page.keyboard.type("Добрый день! /tr")
    expect(page.locator("#canned-suggest li")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#reply-body")).to_have_value("Добрый день! Трек-номер придёт в SMS.")
    expect(page.locator("#canned-suggest")).to_be_hidden()
    expect(page.locator("#reply-sms-count")).to_contain_text("SMS")

    # Alt+J moves to the next conversation in the list.
    page.locator("body").click()
    page.keyboard.press("Alt+KeyJ")
    page.wait_for_url(f"**/app/inbox/{conversations[0].pk}/")


def test_on_a_phone_the_list_and_the_thread_are_separate_pages(
    signed_in_page, live_server, reachable_customer
):
    from channels.services.inbound import inbound_receive

    customer = reachable_customer("sms", first_name="Ольга")
    conversation = inbound_receive(
        channel="sms",
        provider="exolve",
        address=customer.phone,
        body="Можно вернуть товар?",
        provider_message_id="phone-1",
        payload={},
    ).conversation
    page = signed_in_page("support")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/app/inbox/")
    expect(page.locator("[data-conv-link]")).to_be_visible()
    expect(page.locator(".inbox-empty-pane")).to_be_hidden()
    page.click("[data-conv-link]")
    page.wait_for_url(f"**/app/inbox/{conversation.pk}/")
    expect(page.locator(".inbox-list-pane")).to_be_hidden()
    expect(page.locator("#inbox-thread")).to_contain_text("Можно вернуть товар?")
    expect(page.locator("#reply-body")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click(".inbox-back")
    expect(page.locator("[data-conv-link]")).to_be_visible()
