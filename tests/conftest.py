import os
import shutil

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


# --- Pages: Debian's Chromium driven by Playwright; staff users in each role ------------------


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium must not phone home; this machine's network refuses it and slows every start.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (Debian package 'chromium'); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    """A fresh browser page. Any Content-Security-Policy violation on it fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()
    assert not violations, f"CSP violations: {violations}"


@pytest.fixture
def staff_user(db):
    """Make a staff member in a role: staff_user("support"), or a superuser with role=None."""
    from django.contrib.auth.models import Group, User

    from workspace.roles import roles_sync

    def make(role: str | None, username: str | None = None, password: str = "pw-Kaskad-2026"):
        roles_sync()
        name = username or f"{role or 'root'}-{User.objects.count() + 1}"
        if role is None:
            return User.objects.create_superuser(name, f"{name}@example.com", password)
        user = User.objects.create_user(name, f"{name}@example.com", password)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def client_as(client, staff_user):
    """A test client signed in as a new staff member of `role` ("admin", "marketing", "support")."""

    def make(role: str):
        client.force_login(staff_user(role))
        return client

    return make


@pytest.fixture
def signed_in_page(page, live_server, staff_user):
    """A browser page signed in (through the real login form) as a new staff member of `role`."""

    def make(role: str):
        user = staff_user(role)
        page.goto(f"{live_server.url}/app/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-Kaskad-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/app/")
        return page

    return make
