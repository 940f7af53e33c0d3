"""Attribution listens to customers (orders written) and channels (messages engaged with)."""


def attribution_receivers_connect() -> None:
    from analytics.attribution.services import (
        attribution_on_message_status,
        attribution_pending_add,
    )
    from channels.listeners import on_message_status
    from customers.hooks import on_orders_written

    on_orders_written(attribution_pending_add)
    on_message_status(attribution_on_message_status)
