from decimal import Decimal

import pytest

from customers.models import Customer, Order, OrderItem, Product
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/batch"


def order(external_id="o1", customer="c1", **overrides):
    return {
        "external_id": external_id,
        "customer_external_id": customer,
        "status": "paid",
        "placed_at": "2026-10-05T12:30:00Z",
        "total": "2490.00",
        "currency": "rub",
        "promo_code": "AUTUMN10",
        "items": [
            {
                "sku": "GPU-1",
                "name": "RTX 4070",
                "category": "video cards",
                "quantity": 1,
                "price": "2000.00",
            },
            {
                "sku": "CBL-1",
                "name": "HDMI cable",
                "category": "cables",
                "quantity": 2,
                "price": "245.00",
            },
        ],
        **overrides,
    }


def test_orders_are_stored_with_items_and_products_are_upserted(api):
    customer = CustomerFactory(external_id="c1")
    response = api.post(URL, {"items": [order()]})
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "customers_created": []}
    stored = Order.objects.get()
    assert (stored.customer, stored.total, stored.currency, stored.status) == (
        customer,
        Decimal("2490.00"),
        "RUB",
        "paid",
    )
    assert sorted(stored.items.values_list("sku", "quantity")) == [("CBL-1", 2), ("GPU-1", 1)]
    gpu = Product.objects.get(sku="GPU-1")
    assert (gpu.name, gpu.category, gpu.price) == ("RTX 4070", "video cards", Decimal("2000.00"))
    assert OrderItem.objects.get(sku="GPU-1").product == gpu


def test_a_replayed_order_is_unchanged(api):
    api.post(URL, {"items": [order()]})
    items_before = list(OrderItem.objects.values_list("pk", flat=True))
    response = api.post(URL, {"items": [order()]})
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 1, "customers_created": []}
    assert list(OrderItem.objects.values_list("pk", flat=True)) == items_before


def test_a_changed_order_is_updated_and_its_items_replaced(api):
    api.post(URL, {"items": [order()]})
    changed = order(
        status="refunded", items=[{"sku": "GPU-1", "price": "2000.00"}], total="2000.00"
    )
    response = api.post(URL, {"items": [changed]})
    assert response.json()["updated"] == 1
    stored = Order.objects.get()
    assert stored.status == "refunded"
    assert list(stored.items.values_list("sku", flat=True)) == ["GPU-1"]
    # An item without a name does not wipe the catalogue's name.
    assert Product.objects.get(sku="GPU-1").name == "RTX 4070"


def test_an_order_for_an_unknown_customer_creates_that_customer(api):
    response = api.post(URL, {"items": [order(customer="shop-77")]})
    assert response.json()["customers_created"] == ["shop-77"]
    assert Order.objects.get().customer.external_id == "shop-77"


def test_an_existing_product_keeps_its_name_when_items_send_none(api):
    ProductFactory(sku="GPU-1", name="RTX 4070 Ti", category="video cards")
    api.post(URL, {"items": [order(items=[{"sku": "GPU-1", "price": "10.00"}])]})
    assert Product.objects.get(sku="GPU-1").name == "RTX 4070 Ti"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"total": "-1.00"}, "total"),
        ({"total": "12.345"}, "total"),
        ({"currency": "RUR1"}, "currency"),
        ({"currency": "ZZZ"}, "currency"),
        ({"status": "lost"}, "status"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"items": [{"sku": "A", "price": "-5"}]}, "items[0].price"),
        ({"items": [{"sku": "A", "price": "5", "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"price": "5"}]}, "items[0].sku"),
    ],
)
def test_a_bad_order_is_rejected_naming_the_field_and_nothing_is_stored(api, overrides, field):
    response = api.post(URL, {"items": [order("o0", customer="new"), order("o1", **overrides)]})
    assert response.status_code == 400
    assert {"index": 1, "field": field} == {
        k: response.json()["errors"][0][k] for k in ("index", "field")
    }
    assert not Order.objects.exists()
    assert not Customer.objects.exists()


def test_a_duplicate_order_inside_one_batch_is_rejected(api):
    response = api.post(URL, {"items": [order("o1"), order("o1")]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
