"""Surveys on SMS, Telegram, Viber and WhatsApp, end to end with the real providers talking to
loopback HTTP servers, and the customer's replies coming back through each gateway's inbound
webhook and channels' inbound pipeline: the score, one re-ask for anything else, the follow-up in
the same thread, the comment, the thanks, and what is left in the support inbox."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models.surveys import SurveyAnswer, SurveySend
from analytics.surveys.definitions import survey_create
from analytics.surveys.presets import PRESETS
from analytics.surveys.replies import score_parse
from analytics.surveys.sending import survey_send, survey_send_many
from channels.models import Conversation, InboundMessage, Message, MessageStatus
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.policy import forget_delivery_settings
from customers.models import Consent
from tests.channels.test_telegram import BOT_TOKEN, SECRET, post_update, text_update
from tests.channels.test_viber import AUTH_TOKEN, VIBER_USER, message_callback, post_callback
from tests.channels.test_whatsapp import APP_SECRET, PHONE_NUMBER_ID, inbound_text, signed_post
from tests.channels.test_whatsapp import webhook as whatsapp_webhook
from tests.factories import ChannelIdentityFactory, CustomerFactory

pytestmark = pytest.mark.django_db
PHONE = "+79161234567"
CHAT_ID = 523987441
BASE_URL = "https://kaskad.example"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.PUBLIC_BASE_URL = BASE_URL
    settings.MESSAGING_SANDBOX = False
    settings.PROVIDER_HTTP_TIMEOUT = 1
    reset_providers()
    forget_delivery_settings()
    yield
    reset_providers()
    forget_delivery_settings()


def recorder(httpserver, path, answer):
    """Every request to `path` is kept (its JSON) and answered with answer(n)."""
    seen: list[dict] = []

    def handle(request):
        import json

        from werkzeug import Response

        seen.append(request.get_json())
        return Response(json.dumps(answer(len(seen))), content_type="application/json")

    httpserver.expect_request(path, method="POST").respond_with_handler(handle)
    return seen


@pytest.fixture
def sms(settings, httpserver):
    settings.SMS_PROVIDER = "exolve"
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key-123"
    settings.EXOLVE_SENDER = "+79990001122"
    settings.EXOLVE_WEBHOOK_SECRET = "hook-secret-xyz"
    settings.TWILIO_ACCOUNT_SID = ""
    reset_providers()
    return recorder(httpserver, "/messaging/v1/SendSMS", lambda n: {"message_id": f"ex-{n}"})


@pytest.fixture
def telegram(settings, httpserver):
    settings.TELEGRAM_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "KaskadShopBot"
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    reset_providers()
    return recorder(
        httpserver,
        f"/bot{BOT_TOKEN}/sendMessage",
        lambda n: {"ok": True, "result": {"message_id": 4700 + n, "date": 1741000000}},
    )


@pytest.fixture
def viber(settings, httpserver):
    settings.VIBER_BASE_URL = httpserver.url_for("/pa")
    settings.VIBER_AUTH_TOKEN = AUTH_TOKEN
    settings.VIBER_SENDER_NAME = "Kaskad Shop"
    reset_providers()
    return recorder(
        httpserver,
        "/pa/send_message",
        lambda n: {"status": 0, "status_message": "ok", "message_token": 5098034272017990000 + n},
    )


@pytest.fixture
def whatsapp(settings, httpserver):
    settings.WHATSAPP_BASE_URL = httpserver.url_for("/v21.0")
    settings.WHATSAPP_TOKEN = "EAAG-system-user-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    reset_providers()
    return recorder(
        httpserver,
        f"/v21.0/{PHONE_NUMBER_ID}/messages",
        lambda n: {"messages": [{"id": f"wamid.OUT-{n}"}]},
    )


def reachable(channel, address, **fields):
    customer = CustomerFactory(**fields)
    ChannelIdentityFactory(customer=customer, channel=channel, address=address)
    Consent.objects.create(customer=customer, channel=channel, status="opted_in")
    return customer


def deliver_all():
    """What the `send` worker does: deliver every queued message."""
    ids = list(Message.objects.filter(status=MessageStatus.QUEUED).values_list("pk", flat=True))
    messages_deliver(ids)


class Sms:
    def __init__(self, client, capture):
        self.client, self.capture, self.n = client, capture, 0

    def reply(self, text):
        self.n += 1
        payload = {
            "message_id": f"in-{self.n}",
            "sender": PHONE.lstrip("+"),
            "receiver": "79990001122",
            "text": text,
            "date": timezone.now().isoformat().replace("+00:00", "Z"),
        }
        with self.capture(execute=True):
            response = self.client.post(
                "/hooks/exolve/inbound?secret=hook-secret-xyz",
                payload,
                content_type="application/json",
            )
        assert response.status_code == 200
        deliver_all()


@pytest.fixture
def sms_customer(client, django_capture_on_commit_callbacks):
    customer = reachable("sms", PHONE, phone=PHONE, locale="ru-RU")
    return customer, Sms(client, django_capture_on_commit_callbacks)


# --- SMS ----------------------------------------------------------------------------------------


def test_an_sms_survey_asks_for_a_digit_reads_the_reply_asks_why_and_thanks(sms, sms_customer):
    customer, phone = sms_customer
    survey = survey_create("nps", "After delivery")
    send = survey_send(survey, customer, channel="sms", source="manual")
    deliver_all()
    assert len(sms) == 1 and sms[0]["destination"] == PHONE.lstrip("+")
    assert PRESETS["nps"]["question"]["ru"] in sms[0]["text"]
    assert "0" in sms[0]["text"] and "10" in sms[0]["text"]

    phone.reply(" 9. ")
    answer = SurveyAnswer.objects.get(send=send)
    assert (answer.score, answer.comment) == (9, "")
    assert sms[-1]["text"] == PRESETS["nps"]["follow_up"]["ru"]

    phone.reply("Курьер приехал раньше срока")
    answer.refresh_from_db()
    assert answer.comment == "Курьер приехал раньше срока"
    assert sms[-1]["text"] == PRESETS["nps"]["thanks"]["ru"]
    assert len(sms) == 3
    send.refresh_from_db()
    assert send.state == SurveySend.State.DONE
    # Both replies are in one support conversation with our three lines, which holds nothing
    # but the survey: resolved, so it does not sit in the open inbox.
    conversation = Conversation.objects.get(customer=customer)
    assert conversation.status == Conversation.Status.RESOLVED
    assert InboundMessage.objects.filter(conversation=conversation).count() == 2
    assert Message.objects.filter(conversation=conversation).count() == 2  # follow-up, thanks


def test_a_reply_that_is_not_a_score_gets_one_re_ask_and_stays_in_the_support_inbox(
    sms, sms_customer
):
    customer, phone = sms_customer
    send = survey_send(survey_create("nps", "NPS"), customer, channel="sms", source="manual")
    deliver_all()
    phone.reply("Где мой заказ 1042?")
    assert not SurveyAnswer.objects.exists()
    assert len(sms) == 2 and "0" in sms[-1]["text"] and "10" in sms[-1]["text"]
    phone.reply("Алло?")
    assert len(sms) == 2  # the re-ask is said once
    phone.reply("11")  # off the scale: not a score either
    assert len(sms) == 2 and not SurveyAnswer.objects.exists()
    phone.reply("3")
    assert SurveyAnswer.objects.get(send=send).score == 3
    phone.reply("Долго ждал")
    conversation = Conversation.objects.get(customer=customer)
    # The customer's own questions are in it: it stays open for an agent.
    assert conversation.status == Conversation.Status.OPEN
    assert InboundMessage.objects.filter(conversation=conversation).count() == 5


def test_a_conversation_open_before_the_survey_stays_open_after_it(sms, sms_customer):
    customer, phone = sms_customer
    phone.reply("Здравствуйте, вопрос по доставке")
    survey_send(survey_create("csat", "CSAT"), customer, channel="sms", source="manual")
    deliver_all()
    phone.reply("5")
    phone.reply("Спасибо")
    assert Conversation.objects.get().status == Conversation.Status.OPEN


def test_stop_is_left_to_channels_and_does_not_answer_the_survey(sms, sms_customer):
    customer, phone = sms_customer
    survey_send(survey_create("nps", "NPS"), customer, channel="sms", source="manual")
    deliver_all()
    phone.reply("СТОП")
    assert not SurveyAnswer.objects.exists()
    assert Consent.objects.get(customer=customer, channel="sms").status == "opted_out"
    assert (
        not Message.objects.filter(idempotency_key__startswith="survey:")
        .exclude(idempotency_key__regex=r"^survey:\d+$")
        .exists()
    )


def test_a_reply_after_the_survey_expired_is_an_ordinary_message(sms, sms_customer):
    customer, phone = sms_customer
    send = survey_send(survey_create("nps", "NPS"), customer, channel="sms", source="manual")
    deliver_all()
    SurveySend.objects.filter(pk=send.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    phone.reply("10")
    assert not SurveyAnswer.objects.exists() and len(sms) == 1


@pytest.mark.parametrize(
    ("body", "score"),
    [("7", 7), (" 10! ", 10), ("0", 0), ("3)", 3), ("11", None), ("7/10", None), ("семь", None)],
)
def test_what_counts_as_a_score(body, score):
    assert score_parse(body, 0, 10) == score


# --- Telegram and Viber -------------------------------------------------------------------------


def test_a_telegram_survey_is_answered_in_the_chat(
    telegram, client, django_capture_on_commit_callbacks
):
    customer = reachable("telegram", str(CHAT_ID), locale="en-GB")
    survey = survey_create("ces", "Support CES")
    send = survey_send(survey, customer, channel="telegram", source="manual")
    deliver_all()
    assert telegram[0]["chat_id"] == CHAT_ID
    assert telegram[0]["text"].startswith(PRESETS["ces"]["question"]["en"])
    assert "Reply with a number from 1" in telegram[0]["text"]
    for n, text in enumerate(["6", "The bot answered at once"], start=1):
        with django_capture_on_commit_callbacks(execute=True):
            update = text_update(text, update_id=900000 + n, message_id=n)
            update["message"]["date"] = int(time.time())
            response = post_update(client, update)
        assert response.status_code == 200
        deliver_all()
    answer = SurveyAnswer.objects.get(send=send)
    assert (answer.score, answer.comment, answer.channel) == (
        6,
        "The bot answered at once",
        "telegram",
    )
    assert [m["text"] for m in telegram[1:]] == [
        PRESETS["ces"]["follow_up"]["en"],
        PRESETS["ces"]["thanks"]["en"],
    ]


def test_a_viber_survey_is_answered_in_the_chat(viber, client, django_capture_on_commit_callbacks):
    customer = reachable("viber", VIBER_USER, locale="ro-MD")
    survey = survey_create("csat", "CSAT")
    send = survey_send(survey, customer, channel="viber", source="manual")
    deliver_all()
    assert viber[0]["receiver"] == VIBER_USER
    assert viber[0]["text"].startswith(PRESETS["csat"]["question"]["ro"])
    for n, text in enumerate(["4", "Rapid"], start=1):
        with django_capture_on_commit_callbacks(execute=True):
            callback = message_callback(text, token=4912661846655238145 + n)
            callback["timestamp"] = int(time.time() * 1000)
            response = post_callback(client, callback)
        assert response.status_code == 200
        deliver_all()
    assert SurveyAnswer.objects.values_list("score", "comment").get(send=send) == (4, "Rapid")
    assert viber[-1]["text"] == PRESETS["csat"]["thanks"]["ro"]


# --- WhatsApp -----------------------------------------------------------------------------------


def test_whatsapp_inside_the_24_hour_window_is_session_text_answered_in_the_chat(
    whatsapp, client, django_capture_on_commit_callbacks
):
    customer = reachable("whatsapp", PHONE, phone=PHONE, locale="ru")
    InboundMessage.objects.create(
        customer=customer,
        channel="whatsapp",
        provider="whatsapp",
        address=PHONE,
        body="Привет",
        provider_message_id="wamid.EARLIER",
        received_at=timezone.now() - timedelta(hours=3),
    )
    survey = survey_create(
        "nps", "NPS", whatsapp_template={"name": "survey_invite", "language": "ru"}
    )
    send = survey_send(survey, customer, channel="whatsapp", source="manual")
    deliver_all()
    assert whatsapp[0]["type"] == "text"
    assert whatsapp[0]["text"]["body"].startswith(PRESETS["nps"]["question"]["ru"])
    now = int(time.time())
    for n, text in enumerate(["8", "Удобно"], start=1):
        body = whatsapp_webhook(messages=[inbound_text(wamid=f"wamid.IN-{n}", text=text, at=now)])
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(client, body).status_code == 200
        deliver_all()
    assert SurveyAnswer.objects.values_list("score", "comment").get(send=send) == (8, "Удобно")
    assert [m["type"] for m in whatsapp] == ["text", "text", "text"]


def test_whatsapp_outside_the_window_goes_as_the_approved_template_with_the_survey_link(
    whatsapp, client
):
    customer = reachable("whatsapp", PHONE, phone=PHONE, locale="ru")
    survey = survey_create(
        "nps", "NPS", whatsapp_template={"name": "survey_invite", "language": "ru"}
    )
    send = survey_send(survey, customer, channel="whatsapp", source="manual")
    deliver_all()
    sent = whatsapp[0]
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "survey_invite"
    assert sent["template"]["language"] == {"code": "ru"}
    link = sent["template"]["components"][0]["parameters"][0]["text"]
    assert link.startswith(f"{BASE_URL}/s/")
    page = client.get(link.removeprefix(BASE_URL))
    assert page.status_code == 200 and PRESETS["nps"]["question"]["ru"] in page.content.decode()
    assert send.state == SurveySend.State.AWAITING_SCORE


def test_whatsapp_outside_the_window_without_a_template_is_not_sent(whatsapp):
    customer = reachable("whatsapp", PHONE, phone=PHONE)
    send = survey_send(survey_create("nps", "NPS"), customer, channel="whatsapp", source="manual")
    assert send.state == SurveySend.State.UNSENT
    assert "no approved template" in send.message.status_reason
    deliver_all()
    assert whatsapp == []


# --- the best channel ---------------------------------------------------------------------------


def test_the_best_channel_is_the_preferred_one_else_the_first_the_policy_lets_through(sms):
    by_sms = reachable("sms", "+79160000001", phone="+79160000001")  # email without consent
    by_email = reachable("email", "a@example.com", email="a@example.com")
    prefers_sms = reachable(
        "email",
        "b@example.com",
        email="b@example.com",
        phone="+79160000002",
        attributes={"preferred_channel": "sms"},
    )
    ChannelIdentityFactory(customer=prefers_sms, channel="sms", address="+79160000002")
    Consent.objects.create(customer=prefers_sms, channel="sms", status="opted_in")
    nobody = CustomerFactory(email="", phone="", attributes={"preferred_channel": ["sms"]})
    sends = survey_send_many(
        survey_create("nps", "NPS"),
        [by_sms, by_email, prefers_sms, nobody],
        source="broadcast",
        broadcast_id=7,
    )
    assert [s.channel for s in sends] == ["sms", "email", "sms", "email"]
    assert [s.state for s in sends] == ["score", "score", "score", "unsent"]
    assert {s.broadcast_id for s in sends} == {7}
    assert sends[3].message.status == MessageStatus.SUPPRESSED
