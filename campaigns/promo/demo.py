"""Demo promo codes, made through the services: a pool with codes issued to demo customers, a few
redeemed by real orders through the orders batch service, and a shared welcome code."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns.promo.models import PromoCode, PromoPool
from campaigns.promo.services import (
    promo_code_issue,
    promo_code_reserve_many,
    promo_codes_generate,
    promo_codes_import,
    promo_low_stock_check,
    promo_pool_create,
)
from customers.api.schemas import OrderIn
from customers.models import Customer
from customers.services.orders import order_upsert_batch

POOL_NAME = "Осенняя распродажа −10%"
SHARED_NAME = "WELCOME: приветственная скидка"


def promo_demo_load(*, issued: int = 40, redeemed: int = 8) -> PromoPool:
    """Idempotent: a second run finds the pools and leaves them as they are."""
    pool = PromoPool.objects.filter(name=POOL_NAME).first()
    if pool is not None:
        return pool
    now = timezone.now()
    with transaction.atomic():
        pool = promo_pool_create(
            name=POOL_NAME,
            kind=PromoPool.Kind.UNIQUE,
            prefix="AUT-",
            code_length=6,
            discount_description="−10% на всё, кроме уценки",
            valid_from=now - timedelta(days=7),
            valid_until=now + timedelta(days=60),
            low_stock_threshold=50,
        )
        promo_codes_generate(pool, 500)
        customers = list(
            Customer.objects.exclude(external_id__startswith="kaskad:").order_by("pk")[:issued]
        )
        reserved = promo_code_reserve_many(pool, customers)
        for code in reserved.values():
            promo_code_issue(code)
        shared = promo_pool_create(
            name=SHARED_NAME,
            kind=PromoPool.Kind.SHARED,
            per_customer_limit=1,
            discount_description="500 ₽ на первый заказ",
            low_stock_threshold=0,
        )
        promo_codes_import(shared, [["WELCOME500"]])
    codes = list(
        PromoCode.objects.filter(pool=pool, status="issued")
        .select_related("customer")
        .order_by("pk")[:redeemed]
    )
    orders = [
        OrderIn(
            external_id=f"demo-promo-{code.code}",
            customer_external_id=code.customer.external_id,
            status="completed",
            placed_at=now - timedelta(hours=i + 1),
            total=Decimal("4990.00"),
            currency="RUB",
            promo_code=code.code,
        )
        for i, code in enumerate(codes)
    ]
    if orders:
        order_upsert_batch(items=orders, source="demo")
    promo_low_stock_check()
    return pool
