"""SMS through MTS Exolve: the exact SendSMS request, error mapping, and its webhooks.

A pytest-httpserver stands in for api.exolve.ru; the request it must see is Exolve's documented
one: POST /messaging/v1/SendSMS, `Authorization: Bearer <key>`, JSON
`{"number": sender, "destination": "79…", "text": …}`, answered with `{"message_id": …}`.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from channels.models import InboundMessage, Message, MessageStatus, MessageStatusChange
from channels.providers import reset_providers
from channels.providers.exolve import exolve_number
from channels.services.delivery import messages_deliver, messages_sweep
from channels.services.messages import message_send
from customers.models import Customer

pytestmark = pytest.mark.django_db

SEND_PATH = "/messaging/v1/SendSMS"
PHONE = "+79161234567"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # for stored webhook times


def close_to(actual, expected, slack=2.0):
    """Backoff counts from when the error came back (wall clock), so allow for the test's pace."""
    return expected <= actual <= expected + timedelta(seconds=slack)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def exolve(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "exolve"
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key-123"
    settings.EXOLVE_SENDER = "+79990001122"
    settings.EXOLVE_WEBHOOK_SECRET = "hook-secret-xyz"
    settings.TWILIO_ACCOUNT_SID = ""  # no failover: Exolve's errors are the last word
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    reset_providers()
    return httpserver


def queued_sms(reachable_customer, body="Ваш заказ 1042 готов к выдаче"):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    message = message_send(
        customer=customer, channel="sms", category="transactional", source="api", body=body
    )
    assert message.status == MessageStatus.QUEUED
    return message


def test_an_sms_is_posted_to_exolve_as_json_with_the_bearer_key_and_digits_only_numbers(
    exolve, reachable_customer, enqueued, now
):
    exolve.expect_request(
        SEND_PATH,
        method="POST",
        headers={"Authorization": "Bearer exolve-key-123", "Content-Type": "application/json"},
        json={"number": "79990001122", "destination": "79161234567", "text": "Hello from Kaskad"},
    ).respond_with_json({"message_id": "488958094327263621"})
    message = queued_sms(reachable_customer, body="Hello from Kaskad")

    report = messages_deliver([message.pk], now=now)

    exolve.check_assertions()
    message.refresh_from_db()
    assert report.sent == 1
    assert (message.status, message.provider) == (MessageStatus.SENT, "exolve")
    assert message.provider_message_id == "488958094327263621"
    assert message.parts == 1
    assert len(exolve.log) == 1


def test_a_long_russian_sms_records_the_parts_exolve_will_bill(
    exolve, reachable_customer, enqueued, now
):
    body = "Ж" * 71  # one past a single UCS-2 part
    exolve.expect_request(SEND_PATH, method="POST").respond_with_json({"message_id": "77"})
    message = queued_sms(reachable_customer, body=body)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert (message.status, message.parts) == (MessageStatus.SENT, 2)
    assert exolve.log[0][0].get_json()["text"] == body


def test_an_alpha_name_sender_is_sent_as_it_is(exolve, settings, reachable_customer, enqueued, now):
    settings.EXOLVE_SENDER = "Kaskad"
    reset_providers()
    exolve.expect_request(
        SEND_PATH, json={"number": "Kaskad", "destination": "79161234567", "text": "Hi"}
    ).respond_with_json({"message_id": "1"})
    message = queued_sms(reachable_customer, body="Hi")

    messages_deliver([message.pk], now=now)

    exolve.check_assertions()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_400_fails_the_message_at_once_with_exolves_own_reason(
    exolve, reachable_customer, enqueued, now
):
    exolve.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"error": {"code": 400, "message": "Number does not exist"}}, status=400
    )
    message = queued_sms(reachable_customer)

    report = messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert report.failed == 1
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == "exolve: HTTP 400: Number does not exist"
    assert message.failed_at is not None
    assert not enqueued
    assert len(exolve.log) == 1


def test_a_500_is_retried_after_the_backoff_and_sent_when_exolve_recovers(
    exolve, reachable_customer, enqueued, now
):
    exolve.expect_ordered_request(SEND_PATH).respond_with_data("upstream down", status=500)
    exolve.expect_ordered_request(SEND_PATH).respond_with_json({"message_id": "9001"})
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert close_to(message.send_after, now + timedelta(seconds=10))
    assert message.status_reason == "retrying after exolve: HTTP 500: upstream down"
    assert enqueued == [([message.pk], 10)]

    # Not due yet: nothing is sent.
    assert messages_deliver([message.pk], now=now + timedelta(seconds=5)).sent == 0
    assert len(exolve.log) == 1

    report = messages_deliver([message.pk], now=now + timedelta(seconds=11))

    message.refresh_from_db()
    assert report.sent == 1
    assert (message.status, message.provider_message_id, message.attempts) == ("sent", "9001", 2)


def test_a_timeout_leaves_the_message_unconfirmed_and_not_resent(
    exolve, reachable_customer, enqueued, now
):
    def too_slow(request):
        time.sleep(1.0)
        return Response('{"message_id": "late"}', content_type="application/json")

    exolve.expect_request(SEND_PATH).respond_with_handler(too_slow)
    message = queued_sms(reachable_customer)

    report = messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    # Exolve may have taken it (it answered too late, not never) and drops no resend by our
    # reference: sending again could text the customer twice.
    assert (report.unconfirmed, message.status) == (1, MessageStatus.UNCONFIRMED)
    assert message.status_reason.startswith("exolve: timed out")
    assert message.failed_at is None
    assert enqueued == []
    assert messages_deliver([message.pk], now=now + timedelta(hours=1)).sent == 0


def test_a_429_waits_as_long_as_retry_after_says(exolve, reachable_customer, enqueued, now):
    exolve.expect_ordered_request(SEND_PATH).respond_with_json(
        {"error": {"message": "Too many requests"}}, status=429, headers={"Retry-After": "30"}
    )
    exolve.expect_ordered_request(SEND_PATH).respond_with_json({"message_id": "31"})
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert close_to(message.send_after, now + timedelta(seconds=30))
    assert message.status_reason == "retrying after exolve: rate limited (429): Too many requests"
    assert enqueued == [([message.pk], 30)]
    assert messages_deliver([message.pk], now=now + timedelta(seconds=20)).sent == 0

    assert messages_deliver([message.pk], now=now + timedelta(seconds=31)).sent == 1
    message.refresh_from_db()
    assert message.provider_message_id == "31"


def test_a_long_retry_after_is_left_to_the_sweeper_instead_of_a_countdown(
    exolve, reachable_customer, enqueued, now
):
    exolve.expect_ordered_request(SEND_PATH).respond_with_json(
        {"error": {"message": "Daily quota exceeded"}}, status=429, headers={"Retry-After": "3600"}
    )
    exolve.expect_ordered_request(SEND_PATH).respond_with_json({"message_id": "32"})
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert close_to(message.send_after, now + timedelta(hours=1))
    # A worker would hold an hour-long countdown in memory, unacknowledged: not enqueued.
    assert enqueued == []
    assert messages_sweep(now=now + timedelta(minutes=30)) == 0
    assert messages_sweep(now=now + timedelta(seconds=3601)) == 1
    assert enqueued == [([message.pk], None)]
    assert messages_deliver([message.pk], now=now + timedelta(seconds=3601)).sent == 1


def test_exolve_without_credentials_suppresses_the_sms_with_that_reason(
    exolve, settings, reachable_customer, enqueued, now
):
    settings.EXOLVE_API_KEY = ""
    reset_providers()
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason == "exolve is not configured: set EXOLVE_API_KEY"
    assert not exolve.log


@pytest.mark.parametrize(
    ("value", "expected"),
    [("+79161234567", "79161234567"), ("+7 (916) 123-45-67", "79161234567"), ("Kaskad", "Kaskad")],
)
def test_numbers_are_written_the_way_exolve_wants_them(value, expected):
    assert exolve_number(value) == expected


# --- webhooks ---------------------------------------------------------------------------------


def sent_sms(reachable_customer, provider_message_id="488958094327263621", provider="exolve"):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    return Message.objects.create(
        customer=customer,
        channel="sms",
        category="transactional",
        source="api",
        address=PHONE,
        body="Hi",
        provider=provider,
        provider_message_id=provider_message_id,
        status=MessageStatus.SENT,
        sent_at=T0,
    )


def post_status(client, payload, secret="hook-secret-xyz", **extra):
    url = "/hooks/exolve/status" + (f"?secret={secret}" if secret is not None else "")
    return client.post(url, payload, content_type="application/json", **extra)


def test_a_delivery_report_with_the_secret_marks_the_message_delivered(
    exolve, client, reachable_customer
):
    message = sent_sms(reachable_customer)

    response = post_status(
        client,
        {"message_id": "488958094327263621", "status": "DELIVERED", "date": "2025-03-03T09:00:05Z"},
    )

    assert response.status_code == 200
    assert response.json() == {"applied": True}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == T0 + timedelta(seconds=5)
    change = message.status_changes.get(status=MessageStatus.DELIVERED)
    assert change.source == "webhook:exolve"


def test_the_secret_may_come_in_a_header_instead(exolve, client, reachable_customer):
    message = sent_sms(reachable_customer)

    response = post_status(
        client,
        {"message_id": "488958094327263621", "status": "delivered"},
        secret=None,
        HTTP_X_WEBHOOK_SECRET="hook-secret-xyz",
    )

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.parametrize("secret", ["wrong-secret", "", None])
def test_a_report_without_the_right_secret_gets_403_and_changes_nothing(
    exolve, client, reachable_customer, secret
):
    message = sent_sms(reachable_customer)

    response = post_status(
        client, {"message_id": "488958094327263621", "status": "DELIVERED"}, secret=secret
    )

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not MessageStatusChange.objects.filter(message=message).exists()


def test_without_a_configured_secret_every_report_is_refused(
    exolve, settings, client, reachable_customer
):
    settings.EXOLVE_WEBHOOK_SECRET = ""
    message = sent_sms(reachable_customer)

    response = post_status(
        client, {"message_id": "488958094327263621", "status": "DELIVERED"}, secret=""
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_an_undelivered_report_fails_the_message_with_exolves_words(
    exolve, client, reachable_customer
):
    message = sent_sms(reachable_customer)

    post_status(
        client,
        {"message_id": "488958094327263621", "status": "UNDELIVERED", "error": "Absent subscriber"},
    )

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == "exolve: UNDELIVERED: Absent subscriber"


def test_a_repeated_report_is_a_no_op(exolve, client, reachable_customer):
    message = sent_sms(reachable_customer)
    payload = {"message_id": "488958094327263621", "status": "DELIVERED"}

    first = post_status(client, payload)
    second = post_status(client, payload)

    assert (first.json(), second.json()) == ({"applied": True}, {"applied": False})
    assert message.status_changes.filter(status=MessageStatus.DELIVERED).count() == 1


def test_a_late_failure_report_never_moves_a_delivered_message_back(
    exolve, client, reachable_customer
):
    message = sent_sms(reachable_customer)

    post_status(client, {"message_id": "488958094327263621", "status": "DELIVERED"})
    post_status(client, {"message_id": "488958094327263621", "status": "EXPIRED"})
    post_status(client, {"message_id": "488958094327263621", "status": "SENT"})

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert list(message.status_changes.values_list("status", flat=True)) == ["delivered"]


def test_a_report_for_an_unknown_message_is_ignored_with_200(exolve, client, db):
    response = post_status(client, {"message_id": "not-ours", "status": "DELIVERED"})

    assert response.status_code == 200
    assert response.json() == {"applied": False}
    assert not MessageStatusChange.objects.exists()


def test_a_report_that_only_says_queued_changes_nothing(exolve, client, reachable_customer):
    message = sent_sms(reachable_customer)

    response = post_status(client, {"message_id": "488958094327263621", "status": "QUEUED"})

    assert response.status_code == 200
    assert response.json()["applied"] is False
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "DELIVERED"}, "message_id"),
        ({"message_id": "1"}, "status"),
        (["not", "an", "object"], "body"),
    ],
)
def test_a_malformed_report_gets_400_naming_the_field(exolve, client, db, payload, field):
    response = post_status(client, payload)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_payload"
    assert body["errors"][0]["field"] == field


def test_an_inbound_sms_reaches_the_customer_by_their_number(exolve, client, reachable_customer):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    payload = {
        "message_id": "500100",
        "sender": "79161234567",
        "receiver": "79990001122",
        "text": "Когда откроется магазин?",
        "date": "2025-03-03T09:10:00Z",
    }

    first = client.post(
        "/hooks/exolve/inbound?secret=hook-secret-xyz", payload, content_type="application/json"
    )
    again = client.post(
        "/hooks/exolve/inbound?secret=hook-secret-xyz", payload, content_type="application/json"
    )

    assert (first.status_code, again.status_code) == (200, 200)
    inbound = InboundMessage.objects.get()
    assert inbound.customer == customer
    assert (inbound.channel, inbound.provider, inbound.provider_message_id) == (
        "sms",
        "exolve",
        "500100",
    )
    assert inbound.address == PHONE
    assert inbound.body == "Когда откроется магазин?"


def test_a_forged_inbound_sms_gets_403_and_nothing_is_stored(exolve, client, reachable_customer):
    reachable_customer("sms", address=PHONE, phone=PHONE)

    response = client.post(
        "/hooks/exolve/inbound?secret=guess",
        {"message_id": "500100", "sender": "79161234567", "text": "STOP"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "sender",
    [
        "+7 (916) 123-45-67",
        "79161234567",
        "+79161234567",
        "7.916.123.45.67",
        "+7\u00a0916\u00a01234567",
        "tel:+79161234567",
    ],
)
def test_an_inbound_sender_written_with_punctuation_is_the_same_number(
    exolve, client, reachable_customer, sender
):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)

    response = client.post(
        "/hooks/exolve/inbound?secret=hook-secret-xyz",
        {"message_id": "500101", "sender": sender, "text": "Здравствуйте"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get().customer == customer


@pytest.mark.parametrize("sender", ["MTS", "Bank24", "7916-SALE", "+7916²"])
def test_an_inbound_sms_from_an_alphanumeric_sender_is_acknowledged_and_not_stored(
    exolve, client, db, sender
):
    response = client.post(
        "/hooks/exolve/inbound?secret=hook-secret-xyz",
        {"message_id": "500102", "sender": sender, "text": "Баланс: 100 ₽"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "received": False,
        "reason": f"sender {sender!r} is a name, not a phone number",
    }
    assert not InboundMessage.objects.exists()
    assert not Customer.objects.exists()


def test_an_inbound_sms_without_a_sender_gets_400_naming_the_field(exolve, client, db):
    response = client.post(
        "/hooks/exolve/inbound?secret=hook-secret-xyz",
        {"message_id": "500103", "text": "?"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sender"
