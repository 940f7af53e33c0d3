from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from api.models import ApiKey, hash_api_key
from api.services import api_key_create, api_key_revoke
from api.throttling import ApiKeyRateThrottle

pytestmark = pytest.mark.django_db


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_request_without_a_key_is_401_not_authenticated():
    response = client_with(None).get("/api/v1/customers")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Token abc", "Bearer", "Bearer kk_nope_nope", "Bearer not-a-kaskad-key", "Basic dXNlcjpwYXNz"],
)
def test_a_malformed_or_unknown_key_is_401_authentication_failed(header):
    response = client_with(header).get("/api/v1/customers")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_key_with_the_right_prefix_but_wrong_secret_is_rejected(write_key):
    forged = write_key[:-4] + "AAAA"
    response = client_with(f"Bearer {forged}").get("/api/v1/customers")
    assert response.status_code == 401


def test_a_revoked_key_is_rejected(write_key):
    api_key_revoke(api_key=ApiKey.objects.get())
    response = client_with(f"Bearer {write_key}").get("/api/v1/customers")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_a_read_only_key_reads_but_writing_is_403_insufficient_scope(read_api):
    assert read_api.get("/api/v1/customers").status_code == 200
    response = read_api.post("/api/v1/customers/batch", {"items": [{"external_id": "c1"}]})
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_create_api_key_command_prints_the_key_once_and_stores_only_its_hash():
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "amoCRM sync", "--scope", "read", stdout=out, stderr=err)
    raw_key = out.getvalue().strip()
    api_key = ApiKey.objects.get(name="amoCRM sync")
    assert api_key.scopes == ["read"]
    assert raw_key.startswith(f"kk_{api_key.prefix}_")
    assert api_key.key_hash == hash_api_key(raw_key)
    assert raw_key not in api_key.key_hash
    assert client_with(f"Bearer {raw_key}").get("/api/v1/customers").status_code == 200


def test_using_a_key_records_when_it_was_last_used(api):
    assert ApiKey.objects.get().last_used_at is None
    api.get("/api/v1/customers")
    assert ApiKey.objects.get().last_used_at is not None


def test_past_the_rate_limit_a_key_gets_429_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    statuses = [api.get("/api/v1/customers").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/customers")
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_each_key_has_its_own_rate_limit(api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1/min"})
    _, other_key = api_key_create(name="shop")
    assert api.get("/api/v1/customers").status_code == 200
    assert api.get("/api/v1/customers").status_code == 429
    assert client_with(f"Bearer {other_key}").get("/api/v1/customers").status_code == 200
