"""Recommendations, computed set-based in SQL: a few INSERT … SELECT statements, never a loop.

A refresh of everyone (nightly) first rebuilds two small shared tables from the last
`WINDOW_DAYS` of orders:

- `CoPurchasePair`: for each product the `PAIRS_PER_PRODUCT` products most often in the same order;
- `CategoryPick`: per category its most bought products ("popular") and its newest ("new").

Then one statement writes every customer's picks: candidates of the four kinds are gathered with
UNION ALL, anything the customer already bought (orders not cancelled or refunded) is removed with
one anti-join, and ROW_NUMBER() per customer and kind keeps the top `TOP_N`. That statement runs
once per range of `CHUNK` customer ids, so each sort stays in memory and the time grows linearly
with customers. A refresh of one customer runs it for their id alone and reuses the shared tables.

The SQL is portable between SQLite and PostgreSQL except for reading a JSON property.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from campaigns.recommendations.models import (
    CategoryPick,
    CoPurchasePair,
    Recommendation,
    RecommendationKind,
    RecommendationRun,
)
from customers.models import Customer, Event, Order, OrderItem, Product

TOP_N = 10
WINDOW_DAYS = 180
NEW_DAYS = 30
PAIRS_PER_PRODUCT = 20
PICKS_PER_CATEGORY = 30
FAVOURITE_CATEGORIES = 3
# Weight of a bought category against a viewed one when choosing a customer's favourites.
BOUGHT_WEIGHT = 3
VIEW_EVENTS = ("product_view", "product_viewed", "view_product")
NOT_BOUGHT = (Order.Status.CANCELLED, Order.Status.REFUNDED)
WORK_MEM = "64MB"
ADVISORY_LOCK = 0x6B61_7265  # "kare": Kaskad recommendations
# Customers per statement (by id range): sorts stay in memory and time grows linearly.
CHUNK = 20_000


@dataclass
class RefreshResult:
    started_at: datetime
    finished_at: datetime
    customer_id: int | None
    pairs: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "orders": q(Order._meta.db_table),
        "items": q(OrderItem._meta.db_table),
        "events": q(Event._meta.db_table),
        "products": q(Product._meta.db_table),
        "customers": q(Customer._meta.db_table),
        "recs": q(Recommendation._meta.db_table),
        "pairs": q(CoPurchasePair._meta.db_table),
        "picks": q(CategoryPick._meta.db_table),
    }


def _params(now: datetime, customer_id: int | None) -> dict:
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "now": adapt(now),
        "since": adapt(now - timedelta(days=WINDOW_DAYS)),
        "new_since": adapt(now - timedelta(days=NEW_DAYS)),
        "cancelled": NOT_BOUGHT[0].value,
        "refunded": NOT_BOUGHT[1].value,
        "customer": customer_id,
        "top_n": TOP_N,
        "pairs_per_product": PAIRS_PER_PRODUCT,
        "picks_per_category": PICKS_PER_CATEGORY,
        "favourites": FAVOURITE_CATEGORIES,
        "bought_weight": BOUGHT_WEIGHT,
    }
    for i, name in enumerate(VIEW_EVENTS):
        params[f"view{i}"] = name
    return params


def _view_names() -> str:
    return ", ".join(f"%(view{i})s" for i in range(len(VIEW_EVENTS)))


def _pairs_sql(t: dict) -> str:
    """Item pairs of the window's orders, counted once per order, top companions per product."""
    return (
        f"INSERT INTO {t['pairs']} (product_id, other_id, orders, rank) "
        f"SELECT product_id, other_id, orders, rn FROM ("
        f" SELECT a.product_id AS product_id, b.product_id AS other_id,"
        f" COUNT(DISTINCT a.order_id) AS orders,"
        f" ROW_NUMBER() OVER (PARTITION BY a.product_id"
        f"  ORDER BY COUNT(DISTINCT a.order_id) DESC, b.product_id) AS rn"
        f" FROM {t['orders']} o"
        f" JOIN {t['items']} a ON a.order_id = o.id"
        f" JOIN {t['items']} b ON b.order_id = o.id AND b.product_id <> a.product_id"
        f" WHERE o.placed_at >= %(since)s AND o.status NOT IN (%(cancelled)s, %(refunded)s)"
        f" GROUP BY a.product_id, b.product_id"
        f") ranked WHERE rn <= %(pairs_per_product)s"
    )


def _category_picks_sql(t: dict) -> str:
    """Per category and currency (a market): the window's best sellers and the newest products."""
    return (
        f"INSERT INTO {t['picks']} (category, currency, kind, product_id, score, rank) "
        f"SELECT category, currency, kind, product_id, score, rn FROM ("
        f" SELECT category, currency, kind, product_id, score,"
        f" ROW_NUMBER() OVER (PARTITION BY category, currency, kind"
        f"  ORDER BY score DESC, product_id) AS rn"
        f" FROM ("
        f"  SELECT p.category AS category, p.currency AS currency, 'popular' AS kind,"
        f"  p.id AS product_id, COUNT(DISTINCT i.order_id) * 1.0 AS score"
        f"  FROM {t['orders']} o JOIN {t['items']} i ON i.order_id = o.id"
        f"  JOIN {t['products']} p ON p.id = i.product_id"
        f"  WHERE o.placed_at >= %(since)s AND o.status NOT IN (%(cancelled)s, %(refunded)s)"
        f"  AND p.category <> ''"
        f"  GROUP BY p.category, p.currency, p.id"
        f"  UNION ALL"
        f"  SELECT p.category, p.currency, 'new', p.id, 0.0 FROM {t['products']} p"
        f"  WHERE p.created_at >= %(new_since)s AND p.category <> ''"
        f" ) candidates"
        f") ranked WHERE rn <= %(picks_per_category)s"
    )


def _recommendations_sql(t: dict) -> str:
    """The picks of the customers with ids lo..hi, four kinds, top N each, bought ones removed."""
    only_orders = " AND o.customer_id BETWEEN %(lo)s AND %(hi)s"
    only_events = " AND e.customer_id BETWEEN %(lo)s AND %(hi)s"
    sku = _json_text("e.properties", "sku")
    category = _json_text("e.properties", "category")
    views = (
        f"SELECT e.customer_id AS customer_id, p.id AS product_id, COUNT(*) AS n"
        f" FROM {t['events']} e JOIN {t['products']} p ON p.sku = {sku}"
        f" WHERE e.name IN ({_view_names()}) AND e.occurred_at >= %(since)s{only_events}"
        f" GROUP BY e.customer_id, p.id"
    )
    # A favourite is a category in a currency: a shop's markets sell the same item under
    # different SKUs and prices. A view of an unknown SKU has no currency and matches any.
    affinity = (
        f"SELECT customer_id, category, currency, SUM(w) AS w FROM ("
        f" SELECT o.customer_id AS customer_id, i.category AS category, o.currency AS currency,"
        f" %(bought_weight)s AS w"
        f" FROM {t['orders']} o JOIN {t['items']} i ON i.order_id = o.id"
        f" WHERE o.placed_at >= %(since)s AND o.status NOT IN (%(cancelled)s, %(refunded)s)"
        f" AND i.category <> ''{only_orders}"
        f" UNION ALL"
        f" SELECT e.customer_id, {category}, COALESCE(p.currency, ''), 1 FROM {t['events']} e"
        f" LEFT JOIN {t['products']} p ON p.sku = {sku}"
        f" WHERE e.name IN ({_view_names()}) AND e.occurred_at >= %(since)s{only_events}"
        f" AND {category} <> ''"
        f") signals GROUP BY customer_id, category, currency"
    )
    favourites = (
        f"SELECT customer_id, category, currency, w FROM ("
        f" SELECT customer_id, category, currency, w,"
        f" ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY w DESC, category, currency) AS rn"
        f" FROM ({affinity}) affinity"
        f") ranked WHERE rn <= %(favourites)s"
    )
    candidates = (
        f"SELECT b.customer_id AS customer_id, 'bought_together' AS kind,"
        f" cp.other_id AS product_id, SUM(cp.orders) * 1.0 AS score"
        f" FROM bought b JOIN {t['pairs']} cp ON cp.product_id = b.product_id"
        f" WHERE b.last_at >= %(since)s"
        f" GROUP BY b.customer_id, cp.other_id"
        f" UNION ALL"
        f" SELECT f.customer_id, cp.kind, cp.product_id,"
        f"  SUM(CASE WHEN cp.kind = 'popular' THEN f.w * cp.score ELSE f.w * 1.0 / cp.rank END)"
        f" FROM favourites f JOIN {t['picks']} cp ON cp.category = f.category"
        f"  AND (f.currency = '' OR cp.currency = f.currency)"
        f" GROUP BY f.customer_id, cp.kind, cp.product_id"
        f" UNION ALL"
        f" SELECT v.customer_id, 'viewed', v.product_id, v.n * 1.0 FROM views v"
    )
    return (
        f"WITH bought AS ("
        f" SELECT o.customer_id AS customer_id, i.product_id AS product_id,"
        f" MAX(o.placed_at) AS last_at"
        f" FROM {t['orders']} o JOIN {t['items']} i ON i.order_id = o.id"
        f" WHERE o.status NOT IN (%(cancelled)s, %(refunded)s) AND i.product_id IS NOT NULL"
        f"{only_orders}"
        f" GROUP BY o.customer_id, i.product_id"
        f"), views AS ({views}), favourites AS ({favourites}) "
        f"INSERT INTO {t['recs']} (customer_id, kind, rank, product_id, score, computed_at) "
        f"SELECT customer_id, kind, rn, product_id, score, %(now)s FROM ("
        f" SELECT c.customer_id AS customer_id, c.kind AS kind, c.product_id AS product_id,"
        f" c.score AS score, ROW_NUMBER() OVER (PARTITION BY c.customer_id, c.kind"
        f"  ORDER BY c.score DESC, c.product_id) AS rn"
        f" FROM ({candidates}) c"
        f" JOIN {t['customers']} cu ON cu.id = c.customer_id AND cu.erased_at IS NULL"
        f" WHERE NOT EXISTS (SELECT 1 FROM bought x"
        f"  WHERE x.customer_id = c.customer_id AND x.product_id = c.product_id)"
        f") ranked WHERE rn <= %(top_n)s"
    )


def _id_ranges(customer: Customer | None) -> list[tuple[int, int]]:
    """Customer id ranges of CHUNK ids: each statement sorts a bounded number of candidates."""
    if customer is not None:
        return [(customer.pk, customer.pk)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {_tables()['customers']}")
        low, high = cursor.fetchone()
    if low is None:
        return []
    return [(lo, min(lo + CHUNK - 1, high)) for lo in range(low, high + 1, CHUNK)]


def recommendations_refresh(*, customer: Customer | None = None) -> RefreshResult:
    """Recompute the picks of everyone (and the shared pair and category tables), or of one
    customer from the shared tables as they are. One transaction: readers see old or new picks."""
    started = timezone.now()
    t = _tables()
    params = _params(started, customer.pk if customer else None)
    pairs = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One refresh at a time: a customer's would otherwise collide with everyone's on the
            # (customer, kind, rank) key. SQLite serialises writers by itself.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        if connection.vendor == "postgresql" and customer is None:
            # Room for the hash aggregates and sorts of millions of candidate rows in memory;
            # JIT compiling costs more than it saves on these one-off statements.
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            cursor.execute("SET LOCAL jit = off")
            # Every statement here reads whole tables; a nested loop from stale statistics (just
            # after a bulk load) would make the anti-join quadratic.
            cursor.execute("SET LOCAL enable_nestloop = off")
        if customer is None:
            cursor.execute(f"DELETE FROM {t['pairs']}")
            cursor.execute(_pairs_sql(t), params)
            pairs = max(cursor.rowcount, 0)
            cursor.execute(f"DELETE FROM {t['picks']}")
            cursor.execute(_category_picks_sql(t), params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {t['pairs']}, {t['picks']}")
            cursor.execute(f"DELETE FROM {t['recs']}")
        else:
            cursor.execute(f"DELETE FROM {t['recs']} WHERE customer_id = %s", [customer.pk])
        sql = _recommendations_sql(t)
        for lo, hi in _id_ranges(customer):
            cursor.execute(sql, {**params, "lo": lo, "hi": hi})
        scope = "" if customer is None else " WHERE customer_id = %(customer)s"
        cursor.execute(f"SELECT kind, COUNT(*) FROM {t['recs']}{scope} GROUP BY kind", params)
        counts = {kind: 0 for kind in RecommendationKind.values}
        counts.update(dict(cursor.fetchall()))
        finished = timezone.now()
        RecommendationRun.objects.create(
            started_at=started,
            finished_at=finished,
            customer=customer,
            pairs=pairs,
            counts=counts,
        )
    return RefreshResult(started, finished, customer.pk if customer else None, pairs, counts)


def recommendations_refresh_enqueue(*, customer: Customer | None = None) -> None:
    """Run the refresh in the background once the caller's transaction commits."""
    from api.publishing import task_publish_on_commit
    from campaigns.recommendations.tasks import refresh_recommendations  # tasks import this

    task_publish_on_commit(refresh_recommendations, customer.pk if customer else None)


def recommendations_refresh_request(
    *, actor, customer: Customer | None = None, ip_address: str | None = None
) -> RefreshResult | None:
    """A staff member asks for fresh picks, audited: everyone's are queued after commit; one
    customer's are recomputed at once (in the audit entry's transaction) and returned."""
    from api.audit import audit_record

    with transaction.atomic():
        audit_record(
            actor=actor,
            action="recommendations.refresh_requested",
            object_type="recommendations",
            object_id=customer.external_id if customer else "",
            object_repr=customer.external_id if customer else "everyone",
            customer_id=customer.pk if customer else None,
            ip_address=ip_address,
        )
        if customer is not None:
            return recommendations_refresh(customer=customer)
        recommendations_refresh_enqueue()
        return None
