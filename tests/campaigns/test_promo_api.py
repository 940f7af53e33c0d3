import pytest

from campaigns.promo.models import PromoCode
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

POOLS = "/api/v1/promo/pools"


def create_pool(api, **fields):
    response = api.post(POOLS, {"name": "Autumn", "discount_description": "−10%", **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_pool_lifecycle(api):
    pool = create_pool(api, prefix="au", code_length=6)
    assert pool["prefix"] == "AU" and pool["stock"]["available"] == 0
    url = f"{POOLS}/{pool['id']}"
    generated = api.post(f"{url}/generate", {"count": 20}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert generated.status_code == 201 and generated.json() == {"created": 20}
    replay = api.post(f"{url}/generate", {"count": 20}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert replay.json() == {"created": 20}
    assert PromoCode.objects.count() == 20
    imported = api.post(f"{url}/import", {"codes": ["extra1", "EXTRA1", "bad!"]})
    assert imported.json()["created"] == 1
    assert imported.json()["refused"][0]["reason"] == "bad_characters"

    CustomerFactory(external_id="ann")
    reserved = api.post(f"{url}/reserve", {"customer_external_id": "ann"})
    assert reserved.status_code == 200
    again = api.post(f"{url}/reserve", {"customer_external_id": "ann"})
    assert again.json()["code"] == reserved.json()["code"]
    assert api.post(f"{url}/reserve", {"customer_external_id": "nobody"}).status_code == 400

    listed = api.get(f"{url}/codes", {"status": "reserved"}).json()
    assert [c["customer_external_id"] for c in listed["results"]] == ["ann"]
    assert api.get(f"{url}/codes", {"status": "nope"}).status_code == 400
    page = api.get(f"{url}/codes", {"limit": 5}).json()
    assert len(page["results"]) == 5 and page["next"]
    mine = api.get("/api/v1/customers/ann/promo-codes").json()
    assert mine["results"][0]["code"] == reserved.json()["code"]

    got = api.get(url).json()
    assert got["stock"] == {
        "available": 20,
        "reserved": 1,
        "issued": 0,
        "redeemed": 0,
        "expired": 0,
    }
    assert api.get(POOLS).json()["results"][0]["stock"]["reserved"] == 1

    patched = api.patch(url, {"discount_description": "−15%", "low_stock_threshold": 5})
    assert patched.json()["discount_description"] == "−15%"
    assert api.patch(url, {"name": None}).status_code == 400
    archived = api.post(f"{url}/archive")
    assert archived.json()["archived_at"]
    refused = api.post(f"{url}/reserve", {"customer_external_id": "ann"})
    assert refused.status_code == 409 or refused.json()["code"] == reserved.json()["code"]


def test_bad_input_is_400_or_422(api):
    assert api.post(POOLS, {"name": ""}).status_code == 400
    bad_window = api.post(
        POOLS,
        {"name": "x", "valid_from": "2026-10-02T00:00:00Z", "valid_until": "2026-10-01T00:00:00Z"},
    )
    assert bad_window.status_code == 400
    pool = create_pool(api, code_length=4, alphabet="AB")
    too_many = api.post(f"{POOLS}/{pool['id']}/generate", {"count": 100})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["code"] == "pattern"


def test_read_key_cannot_write(read_api, api):
    pool = create_pool(api)
    assert read_api.get(POOLS).status_code == 200
    assert read_api.post(f"{POOLS}/{pool['id']}/generate", {"count": 1}).status_code == 403
