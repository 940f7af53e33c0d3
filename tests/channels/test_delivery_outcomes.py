"""What delivery does with each kind of gateway answer (channels/services/delivery.py): rate-limit
bursts never fail a message, every attempt is in the history, and a cache or setup failure
strands nothing. A pytest-httpserver plays the SMS gateway (MTS Exolve); time is stepped through
the `now` delivery takes, never slept.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from channels.models import Message, MessageStatus, MessageStatusChange
from channels.providers import (
    PROVIDER_CLASSES,
    Provider,
    SendOutcome,
    SendResult,
    reset_providers,
)
from channels.providers.exolve import ExolveSmsProvider
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.ratelimit import rate_limit_take

pytestmark = pytest.mark.django_db

SEND_PATH = "/messaging/v1/SendSMS"


@pytest.fixture
def exolve(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "exolve"
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key"
    settings.EXOLVE_SENDER = "+79990001122"
    settings.TWILIO_ACCOUNT_SID = ""  # no failover
    settings.PROVIDER_HTTP_TIMEOUT = 2
    settings.PROVIDER_RATE_LIMITS = {}  # the gateway's 429s are what is tested here
    reset_providers()
    return httpserver


def queued_sms(reachable_customer, n: int = 0) -> Message:
    phone = f"+7916123{n:04d}"
    customer = reachable_customer("sms", address=phone, phone=phone)
    return message_send(
        customer=customer, channel="sms", category="transactional", source="api", body="Code 1"
    )


class SteppedClock:
    """The test's idea of now, shared with the gateway so it can answer by (simulated) time."""

    def __init__(self):
        self.start = self.now = timezone.now()

    @property
    def elapsed(self) -> float:
        return (self.now - self.start).total_seconds()


def drain(ids: list[int], clock: SteppedClock, limit=timedelta(hours=2)) -> None:
    """Deliver, then jump to the earliest retry, until nothing is queued (or `limit` passed)."""
    while clock.now - clock.start < limit:
        messages_deliver(ids, now=clock.now)
        next_due = (
            Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED)
            .order_by("send_after")
            .values_list("send_after", flat=True)
            .first()
        )
        if next_due is None:
            return
        clock.now = max(next_due, clock.now + timedelta(milliseconds=1))


def test_a_30_second_burst_of_429s_ends_with_every_message_sent(
    exolve, reachable_customer, enqueued
):
    clock = SteppedClock()
    answered = {"429": 0, "ok": 0}

    def gateway(request):
        if clock.elapsed < 30:
            answered["429"] += 1
            return Response(
                '{"error": {"message": "Too many requests"}}',
                status=429,
                headers={"Retry-After": "5"},
                content_type="application/json",
            )
        answered["ok"] += 1
        return Response(f'{{"message_id": "m{answered["ok"]}"}}', content_type="application/json")

    exolve.expect_request(SEND_PATH).respond_with_handler(gateway)
    messages = [queued_sms(reachable_customer, n) for n in range(20)]
    ids = [m.pk for m in messages]

    drain(ids, clock)

    statuses = set(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {MessageStatus.SENT}
    assert answered["ok"] == 20
    # A 429 holds back the rest of its batch unsent: one request per batch per wait, not 20.
    assert answered["429"] <= 5
    first = Message.objects.get(pk=ids[0])
    assert first.attempts == 1  # the 429s were not counted
    history = list(first.status_changes.order_by("occurred_at", "id"))
    assert [c.status for c in history][-1] == MessageStatus.SENT
    waits = [c for c in history if c.status == MessageStatus.QUEUED]
    assert waits, "each 429 the message itself got is in its history"
    assert all("429" in c.reason and "Retry-After 5 s" in c.reason for c in waits)
    # The larger of Retry-After (5 s) and the backoff (10 s) was waited each time.
    assert all("retrying in 10 s" in c.reason for c in waits)


def test_429s_beyond_their_budget_count_as_attempts_and_fail_in_the_end(
    exolve, reachable_customer, enqueued, settings
):
    settings.SEND_MAX_RATE_LIMITED = 3
    exolve.expect_request(SEND_PATH).respond_with_json(
        {"error": {"message": "Too many requests"}}, status=429, headers={"Retry-After": "1"}
    )
    message = queued_sms(reachable_customer)

    drain([message.pk], SteppedClock())

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert (message.rate_limited, message.attempts) == (
        3 + settings.SEND_MAX_ATTEMPTS - 1,
        settings.SEND_MAX_ATTEMPTS,
    )
    assert "gave up after 4 attempts" in message.status_reason


def test_every_attempt_shows_in_the_history_with_the_gateways_answer(
    exolve, reachable_customer, enqueued, api
):
    exolve.expect_ordered_request(SEND_PATH).respond_with_data("upstream down", status=500)
    exolve.expect_ordered_request(SEND_PATH).respond_with_json(
        {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "120"}
    )
    exolve.expect_ordered_request(SEND_PATH).respond_with_json({"message_id": "m-3"})
    message = queued_sms(reachable_customer)

    drain([message.pk], SteppedClock())

    changes = api.get(f"/api/v1/messages/{message.pk}").json()["status_changes"]
    assert [(c["status"], c["source"]) for c in changes] == [
        ("queued", "send:exolve"),
        ("queued", "send:exolve"),
        ("sent", "send:exolve"),
    ]
    assert changes[0]["reason"] == (
        "attempt 1 via exolve: HTTP 500: upstream down; retrying in 10 s"
    )
    assert changes[1]["reason"] == (
        "exolve: rate limited (429): slow down, Retry-After 120 s; not counted as an attempt; "
        "retrying in 120 s"
    )


def test_a_refused_connection_is_certain_and_retried(
    exolve, reachable_customer, enqueued, settings
):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        settings.EXOLVE_BASE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"
    reset_providers()
    message = queued_sms(reachable_customer)

    report = messages_deliver([message.pk])

    message.refresh_from_db()
    assert (report.unconfirmed, message.status) == (0, MessageStatus.QUEUED)
    assert message.status_reason.startswith("retrying after exolve: could not connect")


def test_rate_limit_counters_fail_open_with_a_warning_when_the_cache_is_down(
    settings, caplog, sandbox, reachable_customer, enqueued
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    settings.PROVIDER_RATE_LIMITS = {"sandbox": 1}
    messages = [
        message_send(
            customer=reachable_customer("email"),
            channel="email",
            category="transactional",
            source="api",
            subject="Hi",
            body="Hello",
        )
        for _ in range(3)
    ]

    with caplog.at_level(logging.WARNING, logger="channels.services.ratelimit"):
        assert rate_limit_take("sandbox", 5) == (5, 0.0)
        report = messages_deliver([m.pk for m in messages])

    assert report.sent == 3
    assert "the cache is unavailable" in caplog.text


class BrokenProvider(Provider):
    """A plug-in that fails to build with an error no one planned for."""

    name = "broken"
    channel = "sms"

    @classmethod
    def from_settings(cls):
        raise RuntimeError("bug in the plug-in")


def test_an_error_before_anything_was_sent_releases_the_claims(
    monkeypatch, sandbox, reachable_customer, enqueued
):
    monkeypatch.setitem(PROVIDER_CLASSES, "broken", f"{__name__}:BrokenProvider")
    reset_providers()
    message = queued_sms(reachable_customer)
    Message.objects.filter(pk=message.pk).update(provider="broken")

    with pytest.raises(RuntimeError):
        messages_deliver([message.pk])

    message.refresh_from_db()
    # Not stranded for SEND_CLAIM_SECONDS: the next run (or the sweeper) can take it at once.
    assert (message.status, message.claimed_until, message.attempts) == ("queued", None, 0)
    assert not MessageStatusChange.objects.filter(message=message).exists()


class DedupingExolve(ExolveSmsProvider):
    """Exolve as if it dropped a resend carrying the same client reference."""

    name = "exolve_dedupes"
    dedupes_by_reference = True


def test_an_uncertain_send_is_retried_only_where_the_gateway_dedupes_by_reference(
    exolve, monkeypatch, reachable_customer, enqueued, settings
):
    import time

    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    monkeypatch.setitem(PROVIDER_CLASSES, "exolve_dedupes", f"{__name__}:DedupingExolve")
    reset_providers()

    def too_slow(request):
        time.sleep(0.6)
        return Response('{"message_id": "late"}', content_type="application/json")

    exolve.expect_oneshot_request(SEND_PATH).respond_with_handler(too_slow)
    message = queued_sms(reachable_customer)
    Message.objects.filter(pk=message.pk).update(provider="exolve_dedupes")

    report = messages_deliver([message.pk])
    time.sleep(0.4)  # the stand-in gateway serves one request at a time: let it finish this one

    message.refresh_from_db()
    assert (report.unconfirmed, message.status) == (0, MessageStatus.QUEUED)
    assert message.status_reason.startswith("retrying after exolve_dedupes: timed out")
    exolve.expect_request(SEND_PATH).respond_with_json({"message_id": "m-1"})
    assert messages_deliver([message.pk], now=message.send_after).sent == 1


class CrashingProvider(Provider):
    """Sends the first message, then fails with an error no one planned for."""

    name = "crashing"
    channel = "sms"

    @classmethod
    def from_settings(cls):
        return cls({})

    def send_many(self, messages):
        first, *_ = messages
        yield SendOutcome(first.pk, result=SendResult(provider_message_id="c-1"))
        raise RuntimeError("bug in the plug-in")


def test_a_bug_mid_batch_keeps_only_the_message_in_flight_claimed(
    monkeypatch, sandbox, reachable_customer, enqueued
):
    monkeypatch.setitem(PROVIDER_CLASSES, "crashing", f"{__name__}:CrashingProvider")
    reset_providers()
    messages = [queued_sms(reachable_customer, n) for n in range(3)]
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(provider="crashing")

    with pytest.raises(RuntimeError):
        messages_deliver([m.pk for m in messages])

    sent, in_flight, untouched = (Message.objects.get(pk=m.pk) for m in messages)
    assert sent.status == MessageStatus.SENT
    assert in_flight.claimed_until is not None  # it may have gone out: its claim runs out first
    assert (untouched.status, untouched.claimed_until, untouched.attempts) == ("queued", None, 0)
