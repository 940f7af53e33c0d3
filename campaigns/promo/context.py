"""The "promo" template context provider.

A template shows the pool's offer from `promo.discount`, `promo.valid_until` and `promo.pool`, and
the customer's own code as `promo.code` when the customer holds one in the pool named by the
option `promo_pool_id`. A broadcast or journey reserves first (`promo_code_reserve_many` /
`promo_code_reserve`, which is idempotent per customer) and may also pass the code as the extra
`promo_code`; the settle sweep turns the reservation into an issued code once the message is sent.
"""

from campaigns.promo.models import PromoCode, PromoPool


def promo_context(customers: list, options: dict) -> dict:
    pool_id = options.get("promo_pool_id")
    if not pool_id:
        return {}
    pool = PromoPool.objects.filter(pk=pool_id).first()
    if pool is None:
        return {}
    ids = [c.pk for c in customers]
    if pool.kind == PromoPool.Kind.SHARED:
        shared = PromoCode.objects.filter(pool=pool).values_list("code", flat=True).first()
        codes = dict.fromkeys(ids, shared)
    else:
        codes = dict(
            PromoCode.objects.filter(pool=pool, customer_id__in=ids).values_list(
                "customer_id", "code"
            )
        )
    base = {
        "pool": pool.name,
        "discount": pool.discount_description,
        "valid_until": pool.valid_until,
    }
    return {cid: {**base, "code": codes.get(cid)} for cid in ids}
