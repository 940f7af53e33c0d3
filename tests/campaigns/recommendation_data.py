"""A small hand-made shop whose picks are known exactly (see the module docstring of each test)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import Order, Product
from tests.factories import CustomerFactory, EventFactory, OrderFactory, OrderItemFactory


def make_shop() -> dict:
    """Products a1–a4 (category A), b1, b2 (B), c1 (C); a4 and b2 are new, the rest 100 days old.

    Orders of others: X a1+a2+b1, Y a1+a2, Y a1+b1, Z a3; Z's cancelled a1+c1 does not count.
    Alice bought a1 and viewed a3 twice, a2 and a1; Bob viewed b2 and bought nothing.
    """
    now = timezone.now()
    p = {}
    for sku, category in [
        ("a1", "A"),
        ("a2", "A"),
        ("a3", "A"),
        ("a4", "A"),
        ("b1", "B"),
        ("b2", "B"),
        ("c1", "C"),
    ]:
        p[sku] = Product.objects.create(
            sku=sku,
            name=f"Product {sku}",
            category=category,
            price=Decimal("100.00"),
            currency="RUB",
            url=f"https://shop.example/{sku}",
            image_url=f"https://shop.example/{sku}.jpg",
        )
    Product.objects.exclude(sku__in=["a4", "b2"]).update(created_at=now - timedelta(days=100))
    c = {name: CustomerFactory(external_id=name) for name in ["x", "y", "z", "alice", "bob"]}

    def order(customer, skus, status=Order.Status.COMPLETED):
        o = OrderFactory(customer=c[customer], status=status, placed_at=now - timedelta(days=10))
        for sku in skus:
            OrderItemFactory(order=o, product=p[sku], sku=sku, category=p[sku].category)
        return o

    order("x", ["a1", "a2", "b1"])
    order("y", ["a1", "a2"])
    order("y", ["a1", "b1"])
    order("z", ["a3"])
    order("z", ["a1", "c1"], status=Order.Status.CANCELLED)
    order("alice", ["a1"])

    def view(customer, sku):
        EventFactory(
            customer=c[customer],
            name="product_view",
            properties={"sku": sku, "category": p[sku].category},
        )

    for sku in ["a3", "a3", "a2", "a1"]:
        view("alice", sku)
    view("bob", "b2")
    return {"products": p, "customers": c, "order": order, "view": view}
