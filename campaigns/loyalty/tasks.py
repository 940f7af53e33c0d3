from celery import shared_task

from api.publishing import task_publish
from campaigns.loyalty.selectors import loyalty_settings_get
from campaigns.loyalty.services import (
    points_expire_due,
    points_expiring_notify,
    points_orders_changed,
)


@shared_task(name="campaigns.loyalty.tasks.points_nightly")
def points_nightly() -> dict:
    """Expire batches past their date, then warn about those expiring soon."""
    expired = points_expire_due()
    warned = points_expiring_notify()
    return {"expired_points": expired, "points_expiring_events": warned}


@shared_task(name="campaigns.loyalty.tasks.points_for_orders")
def points_for_orders(order_ids: list[int]) -> None:
    points_orders_changed(order_ids)


def points_orders_changed_hook(order_ids: list[int]) -> None:
    """customers.hooks.on_orders_changed: runs after the orders' transaction committed. The
    points are worked out by a worker, so a batch of 1,000 orders does not wait for them; with
    the broker down they are worked out here instead of being lost (each order earns once)."""
    if not loyalty_settings_get().enabled:
        return
    if not task_publish(points_for_orders, order_ids):
        points_orders_changed(order_ids)
