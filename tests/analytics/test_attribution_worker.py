"""End to end with a real Celery worker: a click reported after the order is queued by the
channels listener, and the periodic task, run by the worker as beat would, credits the order."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.attribution.services import attribution_rebuild
from analytics.models.attribution import AttributionPending, OrderAttribution
from analytics.tasks import attribution_refresh
from channels.models import Message
from channels.services.status import message_status_apply
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=40.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_a_late_click_is_credited_by_the_worker(tmp_path):
    placed = timezone.now() - timedelta(hours=1)
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, placed_at=placed, total=Decimal("75.00"))
    email = Message.objects.create(
        customer=customer,
        channel="email",
        category="marketing",
        source="campaign",
        source_ref="broadcast:12:A",
        status="sent",
        queued_at=placed - timedelta(hours=6),
        sent_at=placed - timedelta(hours=6),
    )
    attribution_rebuild()
    assert not OrderAttribution.objects.exists()  # sent, never opened: no touch

    # The click (two hours before the order) arrives now; the listener runs after the commit.
    message_status_apply(
        message_id=email.pk, status="clicked", occurred_at=placed - timedelta(hours=2)
    )
    assert AttributionPending.objects.filter(order=order).exists()

    client, broker_env = broker_for_test(tmp_path)
    with app_publishing_to(client), celery_worker(broker_env, queues="default"):
        attribution_refresh.apply_async(queue="default")
        assert wait_for(lambda: OrderAttribution.objects.filter(order=order).count() == 3)
    row = OrderAttribution.objects.get(order=order, model="last_touch")
    assert (row.message_id, row.broadcast_id, row.revenue) == (email.pk, 12, Decimal("75.00"))
    assert not AttributionPending.objects.exists()
