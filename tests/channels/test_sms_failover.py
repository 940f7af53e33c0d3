"""SMS failover: SMS_PROVIDER picks the primary; a second configured gateway takes over after the
primary's temporary errors run out of retries. Permanent errors never fail over.

Both gateways are the same pytest-httpserver on their own paths; `messages_deliver(now=…)` steps
through the backoff without sleeping, and the broker is replaced by a recorder.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import MessageStatus
from channels.providers import provider_chain, reset_providers
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send

pytestmark = pytest.mark.django_db

EXOLVE_PATH = "/messaging/v1/SendSMS"
SID = "AC00000000000000000000000000000001"
TWILIO_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
PHONE = "+79161234567"


@pytest.fixture
def gateways(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "exolve"
    settings.SEND_MAX_ATTEMPTS = 2
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key"
    settings.EXOLVE_SENDER = "79990001122"
    settings.TWILIO_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM = "+15005550006"
    reset_providers()
    return httpserver


def queued_sms(reachable_customer):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    return message_send(
        customer=customer, channel="sms", category="transactional", source="api", body="Code 4711"
    )


def paths(httpserver):
    return [request.path for request, _ in httpserver.log]


def test_with_both_configured_exolve_is_primary_and_twilio_the_failover(gateways, settings):
    assert provider_chain("sms") == ["exolve", "twilio"]
    settings.SMS_PROVIDER = "twilio"
    assert provider_chain("sms") == ["twilio", "exolve"]


def test_an_unconfigured_second_gateway_is_no_failover(gateways, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    reset_providers()
    assert provider_chain("sms") == ["exolve"]


def test_exolve_5xx_retries_then_the_sms_goes_through_twilio(
    gateways, reachable_customer, enqueued
):
    gateways.expect_request(EXOLVE_PATH).respond_with_data("bad gateway", status=502)
    gateways.expect_request(TWILIO_PATH).respond_with_json(
        {"sid": "SMfailover", "status": "queued"}, status=201
    )
    message = queued_sms(reachable_customer)
    now = timezone.now()

    # 1st attempt on Exolve: retried after the first backoff step.
    messages_deliver([message.pk], now=now)
    message.refresh_from_db()
    assert (message.status, message.provider, message.attempts) == ("queued", "exolve", 1)
    assert enqueued[-1] == ([message.pk], 10)

    # 2nd and last attempt on Exolve: handed to Twilio at once.
    messages_deliver([message.pk], now=now + timedelta(seconds=11))
    message.refresh_from_db()
    assert (message.status, message.provider, message.attempts) == ("queued", "twilio", 2)
    assert message.status_reason == ("failover from exolve to twilio: HTTP 502: bad gateway")
    assert enqueued[-1] == ([message.pk], None)

    report = messages_deliver([message.pk], now=now + timedelta(seconds=12))

    message.refresh_from_db()
    assert report.sent == 1
    assert (message.status, message.provider) == (MessageStatus.SENT, "twilio")
    assert message.provider_message_id == "SMfailover"
    assert message.status_reason == ""
    assert paths(gateways) == [EXOLVE_PATH, EXOLVE_PATH, TWILIO_PATH]
    twilio_request = gateways.log[-1][0]
    assert (twilio_request.form["To"], twilio_request.form["Body"]) == (PHONE, "Code 4711")


def test_when_both_gateways_keep_failing_the_sms_fails_with_the_last_reason(
    gateways, reachable_customer, enqueued
):
    gateways.expect_request(EXOLVE_PATH).respond_with_data("down", status=500)
    gateways.expect_request(TWILIO_PATH).respond_with_json(
        {"code": 20500, "message": "Internal Server Error", "status": 500}, status=500
    )
    message = queued_sms(reachable_customer)
    now = timezone.now()

    for step in range(5):
        messages_deliver([message.pk], now=now + timedelta(seconds=step * 100))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.provider == "twilio"
    assert message.status_reason == (
        "twilio: HTTP 500: Internal Server Error (Twilio error 20500) (gave up after 4 attempts)"
    )
    assert paths(gateways) == [EXOLVE_PATH, EXOLVE_PATH, TWILIO_PATH, TWILIO_PATH]


def test_a_permanent_exolve_error_does_not_fail_over(gateways, reachable_customer, enqueued):
    gateways.expect_request(EXOLVE_PATH).respond_with_json(
        {"error": {"message": "invalid SendRequest.Destination"}}, status=400
    )
    gateways.expect_request(TWILIO_PATH).respond_with_json({"sid": "SMnever"}, status=201)
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk])

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == "exolve: HTTP 400: invalid SendRequest.Destination"
    assert paths(gateways) == [EXOLVE_PATH]
