"""Publishing after commit (api/publishing.py): a broker outage never fails a committed write, costs
the request well under 2 s, and the work is done later by a sweeper or the periodic full run."""

import logging
import time

import pytest

from api.publishing import task_publish
from customers.models import Customer, SegmentMembership
from customers.services.segments import segments_refresh_all
from customers.tasks import refresh_segment
from tests.factories import SegmentFactory
from tests.outage import dead_broker, silent_broker

pytestmark = pytest.mark.django_db(transaction=True)


def test_publishing_to_a_dead_broker_returns_false_at_once_and_logs_a_warning(caplog):
    with dead_broker(), caplog.at_level(logging.WARNING, logger="api.publishing"):
        started = time.monotonic()
        assert task_publish(refresh_segment, 1) is False
        assert task_publish(refresh_segment, 2) is False
        elapsed = time.monotonic() - started
    assert elapsed < 2
    assert "refresh_segment" in caplog.text
    assert "not published" in caplog.text


def test_publishing_to_a_broker_that_never_answers_gives_up_within_2_s():
    with silent_broker():
        started = time.monotonic()
        assert task_publish(refresh_segment, 1) is False
        elapsed = time.monotonic() - started
    assert elapsed < 2


def test_publishing_to_a_live_broker_returns_true():
    assert task_publish(refresh_segment, 1) is True  # the in-memory broker of the test run


def test_a_customer_batch_commits_and_answers_2xx_promptly_while_the_broker_is_down(api):
    SegmentFactory(name="Annas", rules={"field": "first_name", "op": "equals", "value": "Anna"})
    with dead_broker():
        started = time.monotonic()
        response = api.post(
            "/api/v1/customers/batch",
            {"items": [{"external_id": "crm-1", "first_name": "Anna"}]},
        )
        elapsed = time.monotonic() - started
    assert response.status_code in (200, 201), response.content
    assert elapsed < 2
    assert Customer.objects.filter(external_id="crm-1").exists()


def test_segments_missed_in_an_outage_catch_up_in_the_periodic_full_refresh(api):
    segment = SegmentFactory(
        name="Annas", rules={"field": "first_name", "op": "equals", "value": "Anna"}
    )
    with dead_broker():
        api.post(
            "/api/v1/customers/batch", {"items": [{"external_id": "crm-1", "first_name": "Anna"}]}
        )
    assert not SegmentMembership.objects.filter(segment=segment).exists()  # its refresh was lost
    segments_refresh_all()  # what refresh_all_segments runs every 15 minutes
    assert SegmentMembership.objects.filter(segment=segment, customer__external_id="crm-1").exists()
