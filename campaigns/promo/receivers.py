"""campaigns listens to customers' signals here (customers never imports campaigns)."""

from customers.signals import orders_upserted


def _redeem_order_codes(sender, order_ids, **kwargs):
    from campaigns.promo.services import promo_orders_redeem

    promo_orders_redeem(order_ids)


def promo_receivers_connect() -> None:
    orders_upserted.connect(_redeem_order_codes, dispatch_uid="campaigns.promo.redeem_orders")
