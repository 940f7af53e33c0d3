"""The cache goes down (CACHE_URL on a Redis that is not there): the API stays up without rate
limits, logs why, and applies them again once the cache is back."""

import logging
import time

import pytest

from api.cache import cache_forget_failure
from api.throttling import ApiKeyRateThrottle
from tests.factories import CustomerFactory
from tests.outage import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_is_tried_afresh():
    cache_forget_failure()
    yield
    cache_forget_failure()


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return settings


def test_the_api_answers_while_the_cache_is_down_and_logs_one_warning(api, dead_cache, caplog):
    with caplog.at_level(logging.WARNING, logger="api.cache"):
        started = time.monotonic()
        statuses = [api.get("/api/v1/customers").status_code for _ in range(5)]
        elapsed = time.monotonic() - started
    assert statuses == [200] * 5
    assert elapsed < 2
    warnings = [r for r in caplog.records if r.name == "api.cache"]
    assert len(warnings) == 1  # not one per request
    assert "API rate limits" in warnings[0].getMessage()


def test_writes_go_through_while_the_cache_is_down(api, dead_cache):
    response = api.post("/api/v1/customers/batch", {"items": [{"external_id": "crm-1"}]})
    assert response.status_code in (200, 201), response.content


def test_rate_limits_apply_again_once_the_cache_is_back(api, settings, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    monkeypatch.setattr("api.cache.CACHE_RETRY_SECONDS", 0.2)
    live_caches = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    assert [api.get("/api/v1/customers").status_code for _ in range(3)] == [200] * 3
    settings.CACHES = live_caches
    time.sleep(0.3)  # the retry interval passes
    statuses = [api.get("/api/v1/customers").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_admin_customer_list_with_its_locale_filter_works_while_the_cache_is_down(
    admin_client, dead_cache
):
    CustomerFactory(locale="ru")
    response = admin_client.get("/admin/customers/customer/")
    assert response.status_code == 200
    assert b"?locale=ru" in response.content
