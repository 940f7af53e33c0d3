"""Other apps react to customer data without customers importing them.

An app registers a callback from its AppConfig.ready(); the services here call the callbacks after
their transaction commits, with ids only, so a slow or failing callback never undoes the write.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

OrdersChanged = Callable[[list[int]], None]

_orders_changed: list[OrdersChanged] = []


def on_orders_changed(fn: OrdersChanged) -> OrdersChanged:
    """Call `fn(order_ids)` after orders were created or changed (status, total…)."""
    if fn not in _orders_changed:
        _orders_changed.append(fn)
    return fn


def orders_changed(order_ids: list[int]) -> None:
    """Schedule the callbacks for after the current transaction commits."""
    if not order_ids or not _orders_changed:
        return
    ids = list(order_ids)

    def run() -> None:
        for fn in list(_orders_changed):
            try:
                fn(ids)
            except Exception:  # one app's failure must not hide the orders from the others
                logger.exception("orders_changed hook %r failed", fn)

    transaction.on_commit(run)
