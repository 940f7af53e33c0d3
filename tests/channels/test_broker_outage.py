"""The broker goes down: `POST /api/v1/messages` still answers 202 at once with the message stored,
and once the broker is back the sweepers send what was left behind."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import (
    AutoReplyRule,
    InboundMessage,
    Message,
    MessageStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from channels.services.delivery import messages_sweep
from channels.services.inbound import inbound_receive
from channels.services.webhooks_out import (
    SWEEP_GRACE_SECONDS,
    forget_webhook_subscriptions,
    webhook_event_emit,
    webhooks_sweep,
)
from tests.celery_worker import celery_worker
from tests.outage import RedisServer, broker_at, dead_broker

pytestmark = pytest.mark.django_db(transaction=True)


def post_sms(api, customer):
    return api.post(
        "/api/v1/messages",
        {
            "customer": customer.external_id,
            "channel": "sms",
            "category": "transactional",
            "body": "Ваш код: 4417",
        },
    )


def wait_for(condition, timeout=45.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_message_is_accepted_with_202_promptly_while_the_broker_is_down(
    api, reachable_customer, sandbox
):
    customer = reachable_customer("sms")
    with dead_broker():
        started = time.monotonic()
        response = post_sms(api, customer)
        elapsed = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert elapsed < 2
    assert Message.objects.get(pk=response.json()["id"]).status == MessageStatus.QUEUED


@pytest.mark.worker
def test_a_message_accepted_while_redis_was_down_is_sent_once_redis_is_back(
    api, reachable_customer, sandbox, tmp_path
):
    redis = RedisServer(tmp_path)  # not started yet: the broker is down
    customer = reachable_customer("sms")
    try:
        with broker_at(redis.url):
            response = post_sms(api, customer)
            assert response.status_code == 202
            message = Message.objects.get(pk=response.json()["id"])
            assert message.status == MessageStatus.QUEUED

            redis.start()
            broker_env = {"CELERY_BROKER_URL": redis.url, "CELERY_RESULT_BACKEND": redis.url}
            with celery_worker(broker_env, queues="send", extra_env={"MESSAGING_SANDBOX": "1"}):
                # What beat's sweep_messages does a minute later.
                assert messages_sweep(now=message.updated_at + timedelta(minutes=2)) == 1
                assert wait_for(
                    lambda: Message.objects.get(pk=message.pk).status == MessageStatus.SENT
                ), Message.objects.get(pk=message.pk).status_reason
    finally:
        redis.stop()


def test_a_webhook_emitted_while_the_broker_is_down_is_delivered_by_the_sweeper(
    httpserver, eager_celery
):
    WebhookSubscription.objects.create(
        name="CRM", url=httpserver.url_for("/kaskad/events"), secret="s", event_types=[]
    )
    forget_webhook_subscriptions()
    httpserver.expect_request("/kaskad/events", method="POST").respond_with_data("ok")
    with dead_broker():
        (delivery_id,) = webhook_event_emit(event_type="message.status", data={"id": 1})
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert not httpserver.log

    later = timezone.now() + timedelta(seconds=SWEEP_GRACE_SECONDS + 1)
    assert webhooks_sweep(now=later) == 1  # the broker is back (eager here)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(httpserver.log) == 1


def test_an_inbound_message_and_its_auto_reply_are_stored_promptly_while_the_broker_is_down(
    reachable_customer, sandbox
):
    AutoReplyRule.objects.create(name="hours", match="keyword", pattern="hello", reply="Hi!")
    customer = reachable_customer("sms")
    with dead_broker():
        started = time.monotonic()
        inbound = inbound_receive(
            channel="sms",
            provider="exolve",
            address=customer.phone,
            body="hello",
            provider_message_id="m1",
            payload={},
        )
        elapsed = time.monotonic() - started
    assert elapsed < 2
    assert InboundMessage.objects.filter(pk=inbound.pk).exists()
    reply = Message.objects.get(customer=customer)
    assert (reply.body, reply.status) == ("Hi!", MessageStatus.QUEUED)  # the sweeper sends it
