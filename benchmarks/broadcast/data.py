"""What a broadcast to everyone needs, made inside PostgreSQL, then Kaskad's own objects.

Customers come from the segments benchmark's generator (`benchmarks/segments/generate.py`), with
no orders and no events: the broadcast reads customers, not their history. That generator gives
80 % of customers an email consent, 87.5 % of them opted in; here every customer is opted in to
email (one upsert), so the whole base is the audience. Then, one `INSERT … SELECT` each (computing
them is not what is measured): RFM scores for 70 % of customers, a points batch and balance for
every customer, three "bought together" recommendations per customer, and links and pictures for
the generator's 200 products.

Kaskad's services make the rest: the segment (dynamic, rule `reachable: email`, filled by
`segment_refresh`), the promo pool and its codes (`promo_pool_create`,
`promo_codes_generate`, timed), the email template (`template_create`) and the delivery settings
(no frequency cap, no quiet hours: the policy runs for every message and lets it through).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from time import perf_counter

import psycopg

from benchmarks.segments import generate

SEGMENT_NAME = "Everyone reachable by email (broadcast benchmark)"
SEGMENT_RULES = {"reachable": "email"}
POOL_NAME = "Broadcast benchmark −10 %"
TEMPLATE_NAME = "Broadcast benchmark: picks and a promo code"
RFM_SEGMENTS = ["champions", "loyal_customers", "need_attention", "at_risk", "hibernating", "lost"]
RECOMMENDATIONS = 3
# Spare codes beyond one per customer (the pool is never exactly full).
SPARE_CODES_SHARE = 0.05


def customers_generate(url: str, customers: int, anchor: datetime) -> dict[str, dict]:
    """The segments generator's customers, identities, consents, attributes and products."""
    sizes = generate.Sizes(customers=customers, orders=0, events=0)
    timings = generate.generate(url, sizes, anchor)
    return {table: t for table, t in timings.items() if t["rows"] or table == "vacuum analyze"}


def _statements() -> list[tuple[str, str]]:
    from campaigns.loyalty.models import PointsBalance, PointsEntry
    from campaigns.recommendations.models import Recommendation

    entries = PointsEntry._meta.db_table
    balances = PointsBalance._meta.db_table
    picks = Recommendation._meta.db_table
    segments = "ARRAY[" + ", ".join(f"'{s}'" for s in RFM_SEGMENTS) + "]"
    return [
        (
            "customers_consent (email opted in)",
            """
            INSERT INTO customers_consent (customer_id, channel, status, source, updated_at)
            SELECT id, 'email', 'opted_in', 'bench', %(anchor)s FROM customers_customer
            ON CONFLICT (customer_id, channel) DO UPDATE SET status = 'opted_in'
            """,
        ),
        (
            "customers_product (links)",
            """
            UPDATE customers_product
            SET url = 'https://shop.example.com/p/' || lower(sku),
                image_url = 'https://shop.example.com/img/' || lower(sku) || '.jpg'
            """,
        ),
        (
            "customers_rfmscore",
            f"""
            INSERT INTO customers_rfmscore (customer_id, recency_days, frequency, monetary, r, f,
                m, segment, as_of, computed_at)
            SELECT id, 1 + floor(r1 * 500)::int, 1 + floor(r2 * 20)::int,
                   round((500 + r3 * 50000)::numeric, 2), 1 + floor(r1 * 5)::int,
                   1 + floor(r2 * 5)::int, 1 + floor(r3 * 5)::int,
                   ({segments})[1 + floor(r4 * {len(RFM_SEGMENTS)})::int],
                   %(anchor)s::date, %(anchor)s
            FROM (SELECT id, random() r1, random() r2, random() r3, random() r4
                  FROM customers_customer WHERE id %% 10 < 7) s
            """,
        ),
        (
            entries,
            f"""
            INSERT INTO {entries} (customer_id, kind, points, reason, source, expires_at,
                shortfall, idempotency_key, created_at)
            SELECT id, 'earn', 1 + floor(random() * 5000)::int, 'Orders', 'bench',
                   %(anchor)s + interval '180 days', 0, 'bench:' || id, %(anchor)s
            FROM customers_customer
            """,
        ),
        (
            balances,
            f"""
            INSERT INTO {balances} (customer_id, balance, updated_at)
            SELECT customer_id, points, %(anchor)s FROM {entries}
            """,
        ),
        (
            picks,
            # Three different products per customer (61 and 122 apart, modulo 200).
            f"""
            INSERT INTO {picks} (customer_id, kind, rank, product_id, score, computed_at)
            SELECT c.id, 'bought_together', k,
                   1 + (c.id * 7 + k * 61) %% (SELECT count(*) FROM customers_product),
                   10 - k, %(anchor)s
            FROM customers_customer c CROSS JOIN generate_series(1, {RECOMMENDATIONS}) k
            """,
        ),
    ]


def context_generate(url: str, anchor: datetime) -> dict[str, dict]:
    """Consents, product links, RFM, points and recommendations, in SQL; then ANALYZE."""
    timings: dict[str, dict] = {}
    with psycopg.connect(url) as connection:
        for seed, (table, statement) in enumerate(_statements()):
            started = perf_counter()
            connection.execute("SELECT setseed(%s)", [0.5 + seed / 100])
            rows = connection.execute(statement, {"anchor": anchor}).rowcount
            connection.commit()
            seconds = perf_counter() - started
            timings[table] = {"rows": rows, "seconds": round(seconds, 2)}
            print(f"  {table:<36} {rows:>11,} rows {seconds:7.1f} s", flush=True)
        connection.autocommit = True
        started = perf_counter()
        connection.execute("VACUUM ANALYZE")
        seconds = perf_counter() - started
        timings["vacuum analyze (2)"] = {"rows": 0, "seconds": round(seconds, 2)}
        print(f"  {'VACUUM ANALYZE':<36} {'':>16} {seconds:7.1f} s", flush=True)
    return timings


def vacuum_analyze(url: str) -> float:
    """VACUUM ANALYZE after Kaskad's objects are made: the statistics autovacuum would have
    gathered on a pool and segment made a while before the broadcast. (Right after generating a
    million codes the planner still believes the pool is empty and sorts all of its available
    codes for every batch of reservations.)"""
    with psycopg.connect(url, autocommit=True) as connection:
        started = perf_counter()
        connection.execute("VACUUM ANALYZE")
        seconds = perf_counter() - started
    print(f"  {'VACUUM ANALYZE':<36} {'':>16} {seconds:7.1f} s", flush=True)
    return round(seconds, 2)


def segment_fill() -> tuple[object, dict]:
    """The audience: a dynamic segment, created and filled by Kaskad's full refresh."""
    from customers.services.segments import segment_create, segment_refresh

    segment = segment_create(name=SEGMENT_NAME, kind="dynamic", rules=SEGMENT_RULES)
    started = perf_counter()
    result = segment_refresh(segment=segment)
    seconds = perf_counter() - started
    segment.refresh_from_db()
    print(
        f"  segment_refresh ({SEGMENT_RULES})  {result.member_count:>11,} members {seconds:5.1f} s"
    )
    return segment, {
        "rules": SEGMENT_RULES,
        "members": result.member_count,
        "refresh_seconds": round(seconds, 2),
    }


def promo_pool_fill(audience: int, anchor: datetime) -> tuple[object, dict]:
    """A unique pool with a code for everyone and some spare, made by `promo_codes_generate`
    (which takes at most GENERATE_MAX codes a call)."""
    from campaigns.promo.services import GENERATE_MAX, promo_codes_generate, promo_pool_create

    pool = promo_pool_create(
        name=POOL_NAME,
        kind="unique",
        code_length=8,
        prefix="BC-",
        valid_from=anchor - timedelta(days=1),
        valid_until=anchor + timedelta(days=30),
        discount_description="−10 % на товары без скидки",
        low_stock_threshold=100,
    )
    wanted = audience + max(100, round(audience * SPARE_CODES_SHARE))
    made, calls = 0, []
    started = perf_counter()
    while made < wanted:
        call_started = perf_counter()
        made += promo_codes_generate(pool, min(GENERATE_MAX, wanted - made))
        calls.append(round(perf_counter() - call_started, 2))
    seconds = perf_counter() - started
    print(
        f"  promo_codes_generate                 {made:>11,} codes {seconds:6.1f} s "
        f"({len(calls)} calls)",
        flush=True,
    )
    return pool, {
        "codes": made,
        "seconds": round(seconds, 2),
        "calls_seconds": calls,
        "codes_per_second": round(made / seconds),
    }


def template_make(variants: dict, attributes: dict[str, str]):
    """The email template, saved through `template_create` (which validates every variable)."""
    from campaigns.message_templates.services import template_create
    from customers.models import AttributeDefinition

    for key, kind in attributes.items():
        AttributeDefinition.objects.get_or_create(key=key, defaults={"label": key, "type": kind})
    return template_create(name=TEMPLATE_NAME, category="marketing", variants=variants)


def staff_user():
    """The superuser who launches the broadcast and opens its results page."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-broadcast",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.com"},
    )
    return user
