import pytest
from rest_framework.test import APIClient

from api.models import ApiScope
from api.services import api_key_create


@pytest.fixture
def write_key(db):
    """A key with every scope (api.models.ApiScope); tests of one scope make their own keys."""
    _api_key, raw_key = api_key_create(name="crm", scopes=ApiScope.values)
    return raw_key


@pytest.fixture
def read_key(db):
    _api_key, raw_key = api_key_create(name="reporting", scopes=[ApiScope.READ])
    return raw_key


@pytest.fixture
def api(write_key) -> APIClient:
    """An API client authenticated with a key that has every scope; send JSON by default."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    client.default_format = "json"
    return client


@pytest.fixture
def read_api(read_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    client.default_format = "json"
    return client


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Production serves hashed files from collectstatic's manifest; tests read them in place."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_cached_webhook_subscriptions():
    """Subscriptions are cached per process for 10 s; a test must not see another test's."""
    from channels.services.webhooks_out import forget_webhook_subscriptions

    forget_webhook_subscriptions()
    yield
    forget_webhook_subscriptions()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _tasks_stay_in_memory():
    """Tasks a test enqueues go to an in-memory broker instead of the embedded one under var/,
    where a `make run` worker would pick them up. Tests that start a worker point the app at
    their own broker (tests/celery_worker.py); with a server broker (Redis in CI) nothing changes.
    """
    from config.celery import app
    from tests.celery_worker import reset_connections, uses_server_broker

    if uses_server_broker():
        yield
        return
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport_options = "memory://", {}
    reset_connections(app)
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved
    reset_connections(app)


@pytest.fixture
def eager_celery():
    """Run tasks in-process (the real-worker path is tested in tests/config/test_celery_worker.py)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False
