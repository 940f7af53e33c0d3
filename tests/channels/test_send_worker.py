"""The end-to-end path with a real Celery worker on the `send` queue (Redis in CI): the API stores
the message, the worker sends it; a worker killed mid-send loses nothing and sends nothing twice.
"""

import time
from datetime import timedelta

import pytest

from channels.models import Message, MessageStatus, SandboxMessage
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def send_broker(tmp_path):
    """A broker shared by this process's on_commit enqueues and the worker; its worker env."""
    client, broker_env = broker_for_test(tmp_path)
    with app_publishing_to(client):
        yield broker_env


def wait_for(condition, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_message_posted_to_the_api_is_sent_by_a_worker_on_the_send_queue(
    api, reachable_customer, send_broker, settings
):
    settings.MESSAGING_SANDBOX = True
    customer = reachable_customer("sms")
    with celery_worker(send_broker, queues="send", extra_env={"MESSAGING_SANDBOX": "1"}):
        response = api.post(
            "/api/v1/messages",
            {
                "customer": customer.external_id,
                "channel": "sms",
                "category": "transactional",
                "body": "Ваш код: 4417",
            },
            format="json",
        )
        assert response.status_code == 202
        message_id = response.json()["id"]
        assert wait_for(lambda: Message.objects.get(pk=message_id).status == MessageStatus.SENT), (
            Message.objects.get(pk=message_id).status_reason
        )
    copy = SandboxMessage.objects.get(message_id=message_id)
    assert (copy.address, copy.body) == (customer.phone, "Ваш код: 4417")


def test_a_worker_killed_mid_send_loses_nothing_and_the_sweeper_sends_it_once(
    api, reachable_customer, send_broker, settings, httpserver
):
    """The first worker dies while the gateway has not answered; after its claim expires the
    sweeper enqueues the message again and a second worker sends it, once."""
    import threading

    from channels.services.delivery import messages_sweep

    gateway_answered = []
    hold = threading.Event()

    def slow_then_fast(request):
        from werkzeug import Response

        if not gateway_answered and not hold.is_set():
            hold.set()
            time.sleep(8)  # the worker is killed meanwhile; this answer reaches nobody
            return Response("gateway timeout", status=504)
        gateway_answered.append(request.get_json())
        return Response('{"message_id": "exolve-1"}', content_type="application/json")

    httpserver.expect_request("/messaging/v1/SendSMS", method="POST").respond_with_handler(
        slow_then_fast
    )
    gateway = {
        "MESSAGING_SANDBOX": "0",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": httpserver.url_for("/").rstrip("/"),
        "EXOLVE_API_KEY": "key",
        "EXOLVE_SENDER": "Kaskad",
        "SEND_CLAIM_SECONDS": "2",
        "PROVIDER_HTTP_TIMEOUT": "30",
    }
    customer = reachable_customer("sms")
    with celery_worker(send_broker, queues="send", extra_env=gateway) as first:
        message_id = api.post(
            "/api/v1/messages",
            {
                "customer": customer.external_id,
                "channel": "sms",
                "category": "transactional",
                "body": "Код 4417",
            },
            format="json",
        ).json()["id"]
        assert hold.wait(30), "the first worker never called the gateway"
        first.kill()  # SIGKILL: no chance to record anything
        first.wait(10)
    message = Message.objects.get(pk=message_id)
    assert message.status == MessageStatus.QUEUED  # nothing lost
    assert message.claimed_until is not None  # still held by the dead worker
    time.sleep(2.5)  # the claim expires
    with celery_worker(send_broker, queues="send", extra_env=gateway):
        assert messages_sweep(now=message.updated_at + timedelta(minutes=2)) == 1
        assert wait_for(lambda: Message.objects.get(pk=message_id).status == MessageStatus.SENT)
    assert len(gateway_answered) == 1
    assert Message.objects.get(pk=message_id).provider_message_id == "exolve-1"
