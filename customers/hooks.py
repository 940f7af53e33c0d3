"""Other apps react to customer data without customers importing them.

An app registers a callback from its AppConfig.ready(). Most run after the write commits, with ids
only, so a slow or failing callback never undoes the write (`on_orders_changed`,
`on_events_ingested`). One runs inside the orders batch's transaction, for what must commit or roll
back with the orders themselves: `on_orders_written` (campaigns redeems promo codes there; such a
callback must not raise for one order's sake).
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

OrdersChanged = Callable[[list[int]], None]
EventsIngested = Callable[[list[dict]], None]

_orders_changed: list[OrdersChanged] = []
_orders_written: list[OrdersChanged] = []
_events_ingested: list[EventsIngested] = []
_orders_replacing: list[OrdersChanged] = []
SegmentChanged = Callable[[int, str], None]
_segment_changed: list[SegmentChanged] = []


def on_orders_changed(fn: OrdersChanged) -> OrdersChanged:
    """Call `fn(order_ids)` after orders were created or changed (status, total…)."""
    if fn not in _orders_changed:
        _orders_changed.append(fn)
    return fn


def on_orders_written(fn: OrdersChanged) -> OrdersChanged:
    """Call `fn(order_ids)` inside the orders batch's transaction, right after the orders are stored."""
    if fn not in _orders_written:
        _orders_written.append(fn)
    return fn


def on_orders_replacing(fn: OrdersChanged) -> OrdersChanged:
    """Call `fn(order_ids)` inside the orders batch's transaction just before stored orders are
    overwritten, while the rows still hold their old values (analytics dirties the day an order
    leaves when its placed_at moves)."""
    if fn not in _orders_replacing:
        _orders_replacing.append(fn)
    return fn


def on_events_ingested(fn: EventsIngested) -> EventsIngested:
    """Call `fn(events)` after new events were stored; each is {event_id, customer_id, name}."""
    if fn not in _events_ingested:
        _events_ingested.append(fn)
    return fn


def on_segment_changed(fn: SegmentChanged) -> SegmentChanged:
    """Call `fn(segment_id, at)` after customers entered or left a segment; `at` (ISO) is the
    time of that change, which its segment_entered / segment_left events carry."""
    if fn not in _segment_changed:
        _segment_changed.append(fn)
    return fn


def segment_changed(segment_id: int, at) -> None:
    if not _segment_changed:
        return
    stamp = at.isoformat()

    def run() -> None:
        for fn in list(_segment_changed):
            try:
                fn(segment_id, stamp)
            except Exception:
                logger.exception("segment_changed hook %r failed", fn)

    transaction.on_commit(run)


def orders_changed(order_ids: list[int]) -> None:
    """Schedule the callbacks for after the current transaction commits."""
    _after_commit(_orders_changed, list(order_ids), "orders_changed")


def orders_written(order_ids: list[int]) -> None:
    """Run the in-transaction callbacks now."""
    for fn in list(_orders_written):
        fn(list(order_ids))


def orders_replacing(order_ids: list[int]) -> None:
    """Run the before-overwrite callbacks now."""
    if not order_ids:
        return
    for fn in list(_orders_replacing):
        fn(list(order_ids))


def events_ingested(events: list[dict]) -> None:
    rows = [
        {"event_id": e["event_id"], "customer_id": e["customer_id"], "name": e["name"]}
        for e in events
    ]
    _after_commit(_events_ingested, rows, "events_ingested")


def _after_commit(callbacks: list, payload: list, what: str) -> None:
    if not payload or not callbacks:
        return

    def run() -> None:
        for fn in list(callbacks):
            try:
                fn(payload)
            except Exception:  # one app's failure must not hide the change from the others
                logger.exception("%s hook %r failed", what, fn)

    transaction.on_commit(run)
