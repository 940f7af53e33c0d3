"""Writes mark the days (and customers) whose rollups they made stale.

Order marks run inside the orders batch's transaction, so a mark commits or rolls back with the
orders: once before stored orders are overwritten (the day an order leaves when its placed_at
moves, and its old customer) and once after (the day it lands on, and its customer). A mark is an
upsert that bumps `marked_at`, so a refresh that read the old mark never deletes a newer one.
Message status changes mark the message's queued day after they commit.
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import RollupDirtyCustomer, RollupDirtyDay
from customers.models import Order


def rollups_mark_days(days: Iterable[dt.date]) -> None:
    stamp = timezone.now()
    rows = [RollupDirtyDay(day=day, marked_at=stamp) for day in sorted(set(days))]
    if rows:
        RollupDirtyDay.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["day"], update_fields=["marked_at"]
        )


def rollups_mark_customers(customer_ids: Iterable[int]) -> None:
    stamp = timezone.now()
    rows = [RollupDirtyCustomer(customer_id=c, marked_at=stamp) for c in sorted(set(customer_ids))]
    if rows:
        RollupDirtyCustomer.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["customer_id"], update_fields=["marked_at"]
        )


def rollups_mark_orders(order_ids: list[int]) -> None:
    """Mark the days the orders are on now and their customers (called before and after a write)."""
    rows = (
        Order.objects.filter(pk__in=order_ids)
        .annotate(day=TruncDate("placed_at"))
        .values_list("day", "customer_id")
        .distinct()
    )
    days, customers = set(), set()
    for day, customer_id in rows:
        days.add(day)
        customers.add(customer_id)
    rollups_mark_days(days)
    rollups_mark_customers(customers)


def rollups_mark_message(message_id: int, status, source, source_ref, customer_id) -> None:
    """on_message_status listener: the message's queued day has a new funnel count."""
    from channels.models import Message

    queued_at = Message.objects.filter(pk=message_id).values_list("queued_at", flat=True).first()
    if queued_at is not None:
        rollups_mark_days([timezone.localtime(queued_at).date()])


def rollups_hooks_connect() -> None:
    from channels.listeners import on_message_status
    from customers.hooks import on_orders_replacing, on_orders_written

    on_orders_replacing(rollups_mark_orders)
    on_orders_written(rollups_mark_orders)
    on_message_status(rollups_mark_message)
