"""A broadcast end to end with real Celery workers: the launch publishes chunks on the
`broadcast` queue, a worker renders and stores the messages, a worker on `send` delivers them
through the sandbox, and the results count them."""

import time

import pytest

from campaigns.broadcasts.models import Broadcast, BroadcastStatus, RecipientState
from campaigns.broadcasts.selectors import broadcast_results
from campaigns.broadcasts.services.launch import broadcast_launch
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.setup import broadcast_create
from campaigns.broadcasts.services.tick import broadcasts_tick
from campaigns.message_templates.services import template_create
from channels.models import DeliverySettings, Message, MessageStatus, SandboxMessage
from channels.services.policy import forget_delivery_settings
from customers.models import ConsentStatus
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_launched_broadcast_is_rendered_stored_and_sent_by_workers(tmp_path, settings):
    settings.MESSAGING_SANDBOX = True
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    segment = SegmentFactory()
    for i in range(25):
        customer = CustomerFactory(first_name=f"Имя{i}")
        ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=customer)
    template = template_create(
        name="Worker",
        category="marketing",
        variants={"email": {"subject": "{{ customer.first_name }}!", "html": "<p>Привет</p>"}},
    )
    broadcast = broadcast_create(name="W", template=template, segment=segment, channel="email")
    client, broker_env = broker_for_test(tmp_path)
    with (
        app_publishing_to(client),
        celery_worker(broker_env, queues="broadcast,send", extra_env={"MESSAGING_SANDBOX": "1"}),
    ):
        broadcast_launch(broadcast)
        sent = Message.objects.filter(source_ref=f"broadcast:{broadcast.pk}:A")
        assert wait_for(lambda: sent.filter(status=MessageStatus.SENT).count() == 25)
    assert not broadcast.recipients.filter(state=RecipientState.PENDING).exists()
    assert SandboxMessage.objects.filter(message__in=sent).count() == 25
    assert set(SandboxMessage.objects.values_list("subject", flat=True)) == {
        f"Имя{i}!" for i in range(25)
    }
    broadcasts_tick()
    broadcast = Broadcast.objects.get(pk=broadcast.pk)
    assert broadcast.status == BroadcastStatus.SENT
    broadcast_stats_refresh(broadcast)
    total = broadcast_results(broadcast)["total"]
    assert (total["audience"], total["queued"], total["sent"]) == (25, 25, 25)
