"""campaigns reacts to customers' order writes here (customers never imports campaigns)."""

from customers.hooks import on_orders_written


def _redeem_order_codes(order_ids: list[int]) -> None:
    from campaigns.promo.services import promo_orders_redeem

    promo_orders_redeem(order_ids)


def promo_receivers_connect() -> None:
    on_orders_written(_redeem_order_codes)
