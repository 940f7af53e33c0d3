from celery import shared_task

from campaigns.promo.services import promo_codes_expire, promo_codes_settle, promo_low_stock_check


@shared_task(name="campaigns.promo.settle_codes")
def promo_settle_codes_task() -> dict:
    """Release codes whose message failed or was suppressed, mark sent ones issued, check stock."""
    result = promo_codes_settle()
    result["low_stock_alerts"] = len(promo_low_stock_check())
    return result


@shared_task(name="campaigns.promo.expire_codes")
def promo_expire_codes_task() -> int:
    return promo_codes_expire()
