"""API v1: GET /customers/{id}/recommendations and POST …/refresh, with their scopes."""

import pytest

from campaigns.recommendations.models import Recommendation
from campaigns.recommendations.services import recommendations_refresh
from customers.models import Product
from tests.campaigns.recommendation_data import make_shop

pytestmark = pytest.mark.django_db


def test_get_returns_every_kind_with_product_fields(read_api):
    make_shop()
    recommendations_refresh()
    response = read_api.get("/api/v1/customers/alice/recommendations")
    assert response.status_code == 200
    body = response.json()
    assert body["customer_external_id"] == "alice"
    assert body["computed_at"]
    picks = body["recommendations"]
    assert [p["sku"] for p in picks["viewed"]] == ["a3", "a2"]
    assert picks["viewed"][0] == {
        "rank": 1,
        "score": 2.0,
        "sku": "a3",
        "name": "Product a3",
        "url": "https://shop.example/a3",
        "image_url": "https://shop.example/a3.jpg",
        "price": "100.00",
        "currency": "RUB",
        "category": "A",
    }
    assert set(picks) == {"bought_together", "popular", "viewed", "new"}


def test_kind_filters_and_a_bad_kind_is_a_400(read_api):
    make_shop()
    recommendations_refresh()
    body = read_api.get("/api/v1/customers/alice/recommendations?kind=new").json()
    assert body["recommendations"] == {"new": [body["recommendations"]["new"][0]]}
    response = read_api.get("/api/v1/customers/alice/recommendations?kind=nope")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_unknown_customer_is_404(read_api):
    assert read_api.get("/api/v1/customers/nobody/recommendations").status_code == 404
    assert read_api.post("/api/v1/customers/nobody/recommendations/refresh").status_code in (
        403,
        404,
    )


def test_before_any_refresh_the_lists_are_empty(read_api):
    make_shop()
    body = read_api.get("/api/v1/customers/bob/recommendations").json()
    assert body["computed_at"] is None
    assert body["recommendations"]["viewed"] == []


def test_refresh_needs_write_and_recomputes_one_customer(api, read_api):
    shop = make_shop()
    recommendations_refresh()
    bob_rows = set(Recommendation.objects.filter(customer__external_id="bob").values_list("id"))
    shop["view"]("alice", "c1")
    Product.objects.filter(sku="c1").update(url="https://shop.example/c1-new")

    assert read_api.post("/api/v1/customers/alice/recommendations/refresh").status_code == 403
    response = api.post("/api/v1/customers/alice/recommendations/refresh")

    assert response.status_code == 200
    viewed = response.json()["recommendations"]["viewed"]
    assert [p["sku"] for p in viewed] == ["a3", "a2", "c1"]
    assert viewed[2]["url"] == "https://shop.example/c1-new"
    assert set(Recommendation.objects.filter(customer__external_id="bob").values_list("id")) == (
        bob_rows
    )


def test_order_items_carry_the_product_page_and_picture(api):
    item = {"sku": "GPU-9", "name": "RTX", "category": "gpu", "price": "10.00"}
    order = {
        "external_id": "o-url",
        "customer_external_id": "c-url",
        "placed_at": "2026-10-05T12:30:00Z",
        "total": "10.00",
        "currency": "RUB",
        "items": [{**item, "url": "https://shop.example/gpu-9", "image_url": "https://i/gpu.jpg"}],
    }
    assert api.post("/api/v1/orders/batch", {"items": [order]}).status_code == 200
    product = Product.objects.get(sku="GPU-9")
    assert (product.url, product.image_url) == ("https://shop.example/gpu-9", "https://i/gpu.jpg")
    # A later order without them keeps what is known.
    later = {**order, "external_id": "o-url-2", "items": [item]}
    assert api.post("/api/v1/orders/batch", {"items": [later]}).status_code == 200
    product.refresh_from_db()
    assert product.url == "https://shop.example/gpu-9"
