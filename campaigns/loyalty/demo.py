"""Demo points, through the services: the demo orders' points, a few spends, and batches that
expire within a week (so the nightly job has points_expiring events to write)."""

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns.loyalty.models import PointsEntry
from campaigns.loyalty.selectors import loyalty_settings_get
from campaigns.loyalty.services import (
    InsufficientPoints,
    KeyReused,
    points_earn,
    points_expiring_notify,
    points_orders_changed,
    points_spend,
)
from customers.models import Order

DEMO_ORDERS = 400
EXPIRING_CUSTOMERS = 12


def loyalty_demo_load() -> dict:
    """Idempotent: every change carries an idempotency key, so running it again adds nothing."""
    settings = loyalty_settings_get()
    if not settings.enabled:
        settings.enabled = True
        settings.points_per_unit = Decimal("0.05")
        settings.event_bonuses = {"birthday": 200, "first_order": 100}
        settings.warn_min_points = 50
        settings.warn_within_days = 7
        settings.save()
    order_ids = list(
        Order.objects.filter(status=Order.Status.COMPLETED)
        .order_by("-placed_at")
        .values_list("pk", flat=True)[:DEMO_ORDERS]
    )
    points_orders_changed(order_ids)
    customer_ids = list(
        PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )
    now = timezone.now()
    lifetime = timedelta(days=settings.batch_lifetime_days)
    for n, customer_id in enumerate(customer_ids[:EXPIRING_CUSTOMERS]):
        # Earned long ago, so it expires in 1 to 6 days. On a second run the customers with
        # points may be others (the broadcast demo's orders earn too): a key already used for
        # another amount is a batch given the first time, and stays as it was.
        with suppress(KeyReused):
            points_earn(
                customer=customer_id,
                points=60 + 20 * n,
                reason="Autumn promotion",
                source="demo",
                idempotency_key="demo:expiring",
                now=now - lifetime + timedelta(days=1 + n % 6, hours=3),
            )
    for customer_id in customer_ids[EXPIRING_CUSTOMERS : EXPIRING_CUSTOMERS * 3]:
        with suppress(InsufficientPoints):
            points_spend(
                customer=customer_id,
                points=10,
                reason="Discount at checkout",
                source="demo",
                idempotency_key="demo:spend",
            )
    return {
        "customers": len(customer_ids),
        "points_expiring_events": points_expiring_notify(now=now),
    }
