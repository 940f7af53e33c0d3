"""A real Celery worker process, on the configured broker, picks up a task and completes it."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from api.models import IdempotencyRecord
from api.services import api_key_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)


def database_url_of_this_test() -> str:
    """DATABASE_URL of the database this test runs on, so the worker sees the same rows."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker(tmp_path):
    """The configured broker; the embedded one gets private folders so no other worker steals the task."""
    env = {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    client = Celery("kaskad-test", broker=settings.CELERY_BROKER_URL)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        env["KASKAD_VAR_DIR"] = str(tmp_path)
        env["CELERY_RESULT_BACKEND"] = f"file://{tmp_path / 'celery-results'}"
        (tmp_path / "celery-results").mkdir()
        queue, processed = tmp_path / "broker" / "queue", tmp_path / "broker" / "processed"
        queue.mkdir(parents=True)
        processed.mkdir()
        client.conf.broker_transport_options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "control_folder": str(tmp_path / "broker" / "control"),
        }
    else:
        env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
    client.conf.result_backend = env["CELERY_RESULT_BACKEND"]
    return client, env


@pytest.fixture
def worker(broker):
    client, broker_env = broker
    env = {
        **os.environ,
        **broker_env,
        "DATABASE_URL": database_url_of_this_test(),
        "SECRET_KEY": settings.SECRET_KEY,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", "default", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        yield client
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output)  # shown by pytest when the test fails


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
