"""A real Celery worker process, on the configured broker, picks up a task and completes it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import IdempotencyRecord
from api.services import api_key_create
from tests.celery_worker import broker_for_test, celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    client, broker_env = broker_for_test(tmp_path)
    with celery_worker(broker_env, queues="default"):
        yield client


def test_a_real_worker_runs_a_task_against_the_database(worker):
    api_key, _ = api_key_create(name="crm")
    IdempotencyRecord.objects.create(
        api_key=api_key,
        key="old",
        request_fingerprint="f" * 64,
        response_status=200,
        response_body={},
        created_at=timezone.now() - timedelta(hours=30),
    )
    result = worker.send_task("api.tasks.purge_expired_idempotency_records", queue="default")
    assert result.get(timeout=60) == 1
    assert not IdempotencyRecord.objects.exists()
