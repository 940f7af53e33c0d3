"""Reads for promo pages and the API: stock per status, a pool's codes, a customer's codes."""

from django.db.models import Count

from campaigns.promo.models import PromoCode, PromoCodeStatus, PromoPool

STATUSES = [s.value for s in PromoCodeStatus]


def promo_pools_stock(pool_ids: list[int]) -> dict[int, dict[str, int]]:
    """{pool_id: {status: count}} from one GROUP BY (pool, status) over the promo_code_stock
    index (an index-only scan on PostgreSQL; not yet timed at a million codes)."""
    stock = {pid: dict.fromkeys(STATUSES, 0) for pid in pool_ids}
    rows = (
        PromoCode.objects.filter(pool_id__in=pool_ids)
        .values_list("pool_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for pool_id, status, n in rows:
        stock[pool_id][status] = n
    return stock


def promo_pool_is_low(pool: PromoPool, stock: dict[str, int]) -> bool:
    return (
        pool.kind == PromoPool.Kind.UNIQUE
        and pool.archived_at is None
        and stock.get("available", 0) < pool.low_stock_threshold
    )


def promo_pools_low_stock() -> list[PromoPool]:
    """Active unique pools whose stock crossed below the threshold (set by the periodic check)."""
    return list(
        PromoPool.objects.filter(
            archived_at__isnull=True, kind=PromoPool.Kind.UNIQUE, low_stock_alerted_at__isnull=False
        ).order_by("name")
    )


def promo_codes_page(pool: PromoPool, *, status: str = "", after_id: int = 0, limit: int = 50):
    """One page of a pool's codes by id (keyset), optionally of one status."""
    codes = PromoCode.objects.filter(pool=pool, id__gt=after_id).select_related("customer")
    if status:
        codes = codes.filter(status=status)
    rows = list(codes.order_by("id")[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)


def promo_codes_of_customer(customer_id: int, limit: int = 20) -> list[PromoCode]:
    """A customer's codes, newest pool first: one query on promo_code_customer."""
    return list(
        PromoCode.objects.filter(customer_id=customer_id)
        .select_related("pool")
        .order_by("-pool_id")[:limit]
    )
