"""Outbound webhooks to the CRM: who gets an event, the signed POST, retries with backoff, the log."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels.models import MessageStatusChange, WebhookDelivery, WebhookSubscription
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.webhooks_out import (
    BACKOFF,
    MAX_ATTEMPTS,
    forget_webhook_subscriptions,
    webhook_consent_changes_emit,
    webhook_deliver,
    webhook_event_emit,
    webhooks_sweep,
)
from customers.services.consents import ConsentUpdate
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_4f1c9a"


@pytest.fixture
def subscribe(db, httpserver):
    def make(event_types=(), url=None, **fields):
        subscription = WebhookSubscription.objects.create(
            name=fields.pop("name", "CRM"),
            url=url or httpserver.url_for("/kaskad/events"),
            secret=SECRET,
            event_types=list(event_types),
            **fields,
        )
        forget_webhook_subscriptions()
        return subscription

    return make


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check, as docs/channels-conversations.md shows it."""
    timestamp = headers["X-Kaskad-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Kaskad-Signature"])


def emit_one(event_type="message.status", data=None) -> WebhookDelivery:
    (delivery_id,) = webhook_event_emit(event_type=event_type, data=data or {"id": 7})
    return WebhookDelivery.objects.get(pk=delivery_id)


# --- Emitting -----------------------------------------------------------------------------------
def test_an_event_goes_to_every_active_subscription_that_wants_it(subscribe):
    everything = subscribe(name="all")
    statuses = subscribe(["message.status"], name="statuses")
    subscribe(["consent.changed"], name="consents")
    subscribe(name="paused", is_active=False)
    ids = webhook_event_emit(event_type="message.status", data={"id": 1, "status": "sent"})
    deliveries = WebhookDelivery.objects.filter(pk__in=ids)
    assert {d.subscription for d in deliveries} == {everything, statuses}
    assert len({d.event_id for d in deliveries}) == 1  # one event, however many receivers
    delivery = deliveries.first()
    assert delivery.payload == {
        "id": delivery.event_id,
        "type": "message.status",
        "created_at": delivery.payload["created_at"],
        "data": {"id": 1, "status": "sent"},
    }
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_without_subscriptions_an_event_costs_no_write(django_assert_num_queries):
    webhook_event_emit(event_type="message.status", data={})  # reads the subscriptions once
    with django_assert_num_queries(0):
        assert webhook_event_emit(event_type="message.status", data={}) == []


def test_the_subscriptions_are_read_once_for_many_events(subscribe, django_assert_num_queries):
    subscribe()
    emit_one()
    with django_assert_num_queries(1):  # the insert only
        webhook_event_emit(event_type="message.status", data={"id": 8})


def test_deliveries_are_enqueued_after_commit(
    subscribe, httpserver, eager_celery, django_capture_on_commit_callbacks
):
    subscribe()
    httpserver.expect_request("/kaskad/events", method="POST").respond_with_data("ok")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = emit_one()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(httpserver.log) == 1


def test_consent_changes_are_reported_as_consent_changed_in_one_insert(
    subscribe, django_assert_num_queries
):
    subscribe(["consent.changed"])
    anna = CustomerFactory(external_id="crm-77")
    boris = CustomerFactory(external_id="crm-78")
    changes = [
        ConsentUpdate(anna.pk, "sms", "opted_out", "keyword:exolve"),
        ConsentUpdate(boris.pk, "email", "opted_in", "api"),
    ]
    with django_assert_num_queries(3):  # subscriptions, external ids, one insert
        webhook_consent_changes_emit(changes)
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [d.event_type for d in deliveries] == ["consent.changed"] * 2
    assert deliveries[0].payload["data"] == {
        "customer": "crm-77",
        "channel": "sms",
        "status": "opted_out",
        "source": "keyword:exolve",
    }
    assert deliveries[1].payload["data"]["customer"] == "crm-78"
    assert deliveries[0].event_id != deliveries[1].event_id


def test_consent_changes_nobody_subscribed_to_cost_nothing(subscribe, django_assert_num_queries):
    subscribe(["message.status"])
    webhook_event_emit(event_type="message.status", data={})  # warms the subscriptions cache
    with django_assert_num_queries(0):
        webhook_consent_changes_emit([ConsentUpdate(1, "sms", "opted_out", "api")])


# --- Delivering ---------------------------------------------------------------------------------
def test_a_delivery_is_a_signed_json_post_the_receiver_can_verify(subscribe, httpserver):
    subscribe()
    httpserver.expect_request("/kaskad/events", method="POST").respond_with_json({"ok": True})
    delivery = emit_one("message.inbound", {"id": 5, "body": "Привет"})

    assert webhook_deliver(delivery_id=delivery.pk) == "delivered"

    ((request, _response),) = httpserver.log
    body = request.get_data()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Kaskad-Event"] == "message.inbound"
    assert request.headers["X-Kaskad-Delivery"] == delivery.event_id
    assert abs(int(request.headers["X-Kaskad-Timestamp"]) - time.time()) < 60
    assert verify(SECRET, request.headers, body)
    assert not verify("another secret", request.headers, body)
    assert not verify(SECRET, request.headers, body.replace("Привет".encode(), b"Hello"))
    assert json.loads(body) == delivery.payload
    assert json.loads(body)["data"]["body"] == "Привет"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert delivery.last_error == ""


def test_a_failed_post_is_retried_with_backoff_then_given_up_after_the_last_attempt(
    subscribe, httpserver
):
    subscribe()
    httpserver.expect_request("/kaskad/events").respond_with_data("CRM is down", status=500)
    delivery = emit_one()
    now = timezone.now()

    for attempt in range(1, MAX_ATTEMPTS):
        assert webhook_deliver(delivery_id=delivery.pk, now=now) == "retry"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        assert (delivery.response_status, delivery.last_error) == (500, "HTTP 500: CRM is down")
        wait = delivery.next_attempt_at - timezone.now()
        assert BACKOFF[attempt - 1] - timedelta(seconds=5) < wait <= BACKOFF[attempt - 1]
        # Not due yet: neither a direct call nor the sweeper sends it again.
        assert webhook_deliver(delivery_id=delivery.pk, now=now) == "skipped"
        assert webhooks_sweep(now=now) == 0
        now = delivery.next_attempt_at

    assert [b.total_seconds() for b in BACKOFF[:4]] == [30, 120, 600, 3600]
    assert webhook_deliver(delivery_id=delivery.pk, now=now) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    assert len(httpserver.log) == MAX_ATTEMPTS
    assert webhooks_sweep(now=now + timedelta(days=30)) == 0


def test_a_retry_that_succeeds_is_delivered(subscribe, httpserver):
    subscribe()
    httpserver.expect_oneshot_request("/kaskad/events").respond_with_data("busy", status=503)
    httpserver.expect_request("/kaskad/events").respond_with_data("ok", status=204)
    delivery = emit_one()
    assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert webhook_deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 204)


def test_an_unreachable_endpoint_is_recorded_and_retried(subscribe):
    subscribe(url="http://127.0.0.1:9/closed")
    delivery = emit_one()
    assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.response_status is None
    assert delivery.last_error.startswith("ConnectionError")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(subscribe, httpserver):
    subscribe()
    httpserver.expect_request("/kaskad/events").respond_with_data(
        "", status=302, headers={"Location": "/elsewhere"}
    )
    delivery = emit_one()
    assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    assert len(httpserver.log) == 1


def test_a_delivery_held_by_another_worker_or_already_done_is_skipped(subscribe, httpserver):
    subscribe()
    httpserver.expect_request("/kaskad/events").respond_with_data("ok")
    held = emit_one()
    # What a worker's claim leaves behind while it POSTs.
    WebhookDelivery.objects.filter(pk=held.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=60)
    )
    assert webhook_deliver(delivery_id=held.pk) == "skipped"
    done = emit_one()
    assert webhook_deliver(delivery_id=done.pk) == "delivered"
    assert webhook_deliver(delivery_id=done.pk) == "skipped"
    assert len(httpserver.log) == 1
    # A claim whose worker died expires, and the sweeper finds the row again.
    assert webhooks_sweep(now=timezone.now() + timedelta(minutes=2)) == 1


def test_a_delivery_to_a_paused_subscription_fails_without_a_request(subscribe, httpserver):
    subscription = subscribe()
    delivery = emit_one()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    assert webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("failed", "subscription paused")
    assert httpserver.log == []


def test_the_sweeper_sends_the_due_deliveries(subscribe, httpserver, eager_celery):
    subscribe()
    httpserver.expect_request("/kaskad/events").respond_with_data("ok")
    due = emit_one()
    later = emit_one()
    WebhookDelivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    # Its own enqueue was lost (no on_commit here); the sweeper picks it up after the grace.
    assert webhooks_sweep() == 0
    assert webhooks_sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("delivered", "pending")


def email_queued(customer):
    return message_send(
        customer=customer,
        channel="email",
        subject="Hi",
        body="Hello",
        category="transactional",
        source="api",
    )


def test_a_delivered_batch_reports_each_send_as_message_status_naming_the_customer(
    subscribe, sandbox, reachable_customer
):
    subscribe(["message.status"])
    customers = [reachable_customer("email", external_id=f"crm-{n}") for n in range(3)]
    messages = [email_queued(c) for c in customers]
    assert messages_deliver([m.pk for m in messages]).sent == 3
    deliveries = WebhookDelivery.objects.filter(event_type="message.status").order_by("pk")
    assert [(d.payload["data"]["customer"], d.payload["data"]["status"]) for d in deliveries] == [
        ("crm-0", "sent"),
        ("crm-1", "sent"),
        ("crm-2", "sent"),
    ]
    assert deliveries[0].payload["data"]["message_id"] == messages[0].pk
    assert deliveries[0].payload["data"]["provider"] == "sandbox"


def test_a_delivered_batch_logs_one_sent_status_change_per_message(sandbox, reachable_customer):
    customers = [reachable_customer("email") for _ in range(3)]
    messages = [email_queued(c) for c in customers]
    sent_before = timezone.now()
    messages_deliver([m.pk for m in messages])
    changes = MessageStatusChange.objects.filter(status="sent").order_by("message_id")
    assert [(c.message_id, c.source, c.reason) for c in changes] == [
        (m.pk, "send:sandbox", "") for m in messages
    ]
    assert all(c.occurred_at >= sent_before for c in changes)
    assert not WebhookDelivery.objects.exists()  # nobody subscribed: no payloads built


@pytest.mark.parametrize("subscribed", [False, True])
def test_each_message_of_a_batch_costs_the_same_few_queries(
    subscribe, sandbox, reachable_customer, subscribed
):
    """Each send is committed as it is accepted (a killed worker repeats at most the one in
    flight), so a batch costs a fixed claim plus the same few statements per message: one on
    PostgreSQL when nobody is subscribed."""
    if subscribed:
        subscribe(["message.status"])

    def batch(size):
        return [email_queued(reachable_customer("email")).pk for _ in range(size)]

    messages_deliver(batch(1))  # warms the providers and subscriptions caches
    costs = []
    for size in (1, 2, 3):
        ids = batch(size)
        with CaptureQueriesContext(connection) as queries:
            assert messages_deliver(ids).sent == size
        costs.append(len(queries))
    per_message = costs[1] - costs[0]
    assert costs[2] - costs[1] == per_message
    if connection.vendor == "postgresql" and not subscribed:
        assert per_message == 1
    assert per_message <= (6 if subscribed else 4)
