"""Start real Celery worker processes for tests, on the configured broker and this test's database.

With the embedded broker each test gets private broker folders, so no other worker steals its
tasks; with Redis (CI) the worker shares the test's broker URL.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from celery import Celery
from django.conf import settings
from django.db import connection

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


def uses_server_broker() -> bool:
    return not settings.CELERY_BROKER_URL.startswith(("memory", "filesystem"))


def broker_for_test(tmp_path: Path) -> tuple[Celery, dict[str, str]]:
    """A Celery client for sending tasks, and the broker environment for worker processes.

    A server broker (Redis in CI) is shared as configured. Otherwise worker and test meet in a
    filesystem broker in `tmp_path`, private to the test.
    """
    if uses_server_broker():
        env = {
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        }
        client = Celery("kaskad-test", broker=env["CELERY_BROKER_URL"], set_as_current=False)
        client.conf.result_backend = env["CELERY_RESULT_BACKEND"]
        return client, env
    results = tmp_path / "celery-results"
    queue, processed = tmp_path / "broker" / "queue", tmp_path / "broker" / "processed"
    for folder in (results, queue, processed):
        folder.mkdir(parents=True, exist_ok=True)
    env = {
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "CELERY_RESULT_BACKEND": f"file://{results}",
        "KASKAD_VAR_DIR": str(tmp_path),
    }
    # Not the current app: shared tasks stay bound to Kaskad's own (config.celery.app).
    client = Celery("kaskad-test", broker=env["CELERY_BROKER_URL"], set_as_current=False)
    client.conf.broker_transport_options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "control_folder": str(tmp_path / "broker" / "control"),
    }
    client.conf.result_backend = env["CELERY_RESULT_BACKEND"]
    return client, env


@contextmanager
def app_publishing_to(client: Celery) -> Iterator[None]:
    """Make Kaskad's own Celery app (used by on_commit enqueues) publish to the test's broker."""
    from config.celery import app

    keys = ("broker_url", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    try:
        app.conf.update({key: client.conf[key] for key in keys})
        reset_connections(app)
        yield
    finally:
        app.conf.update(saved)
        reset_connections(app)


def reset_connections(app) -> None:
    # Connections and producer pools are built on first use from the settings of that moment,
    # and kombu keeps producer pools globally; drop them all so the new settings are read.
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_worker(
    broker_env: dict[str, str], *, queues: str = "default", extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """A worker process (solo pool) on `queues`; its output is printed when it stops."""
    env = {
        **os.environ,
        **broker_env,
        "DATABASE_URL": database_url_of_this_test(),
        "SECRET_KEY": settings.SECRET_KEY,
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", queues, "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output)  # shown by pytest when the test fails
