"""Signals the customers app sends, so higher apps (campaigns) react without customers importing them."""

from django.dispatch import Signal

# Sent inside the orders batch transaction with `order_ids`: the orders created or changed (an
# order sent again unchanged is not among them). Receivers run in that transaction; a receiver
# must not raise for one order's sake (campaigns redeems promo codes here).
orders_upserted = Signal()
