from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.idempotency import _fingerprint
from api.models import ApiKey, IdempotencyRecord
from api.services import api_key_create
from api.tasks import purge_expired_idempotency_records
from customers.models import Customer

pytestmark = pytest.mark.django_db

BATCH = {"items": [{"external_id": "c1", "email": "anna@example.com"}]}


def post(api, body, key):
    return api.post("/api/v1/customers/batch", body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_returns_the_first_response(api):
    first = post(api, BATCH, "sync-42")
    Customer.objects.update(first_name="changed meanwhile")
    retry = post(api, BATCH, "sync-42")
    assert retry.status_code == first.status_code == 200
    assert (
        retry.json()
        == first.json()
        == {
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "customers_created": [],
        }
    )
    assert retry["Idempotent-Replayed"] == "true"
    assert Customer.objects.get().first_name == "changed meanwhile"  # not written again


def test_a_reused_key_with_a_different_body_is_422(api):
    post(api, BATCH, "sync-42")
    response = post(api, {"items": [{"external_id": "c2"}]}, "sync-42")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Customer.objects.filter(external_id="c2").exists()


def test_keys_are_per_api_key(api):
    post(api, BATCH, "sync-42")
    _, other = api_key_create(name="other shop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    response = client.post(
        "/api/v1/customers/batch",
        {"items": [{"external_id": "c2"}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="sync-42",
    )
    assert response.status_code == 200
    assert response.json()["created"] == 1


def test_a_key_older_than_24_hours_is_forgotten(api):
    post(api, BATCH, "sync-42")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = post(api, {"items": [{"external_id": "c2"}]}, "sync-42")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


def test_a_failed_request_does_not_use_up_its_key(api):
    bad = post(api, {"items": [{"external_id": "c1", "email": "not-an-email"}]}, "sync-42")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_a_request_still_in_progress_answers_409(api):
    class SameRequest:
        method = "POST"
        path = "/api/v1/customers/batch"
        data = BATCH

    # A claim without a response: the first request with this key has not finished yet.
    IdempotencyRecord.objects.create(
        api_key=ApiKey.objects.get(), key="sync-42", request_fingerprint=_fingerprint(SameRequest)
    )
    response = post(api, BATCH, "sync-42")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"


def test_an_overlong_key_is_rejected(api):
    response = post(api, BATCH, "k" * 256)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


def test_the_purge_task_deletes_only_expired_records(api):
    post(api, BATCH, "old")
    post(api, BATCH, "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert purge_expired_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
