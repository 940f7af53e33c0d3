"""The data, generated inside PostgreSQL with generate_series and a seeded random().

Each table is filled by one INSERT … SELECT after `setseed`, in its own transaction, so a run of
the same size on the same day writes the same rows. Dates count back from `anchor` (midnight UTC
of the run's day), so the relative windows the segments use ("in the last 7 days") find data.

Orders have one item each (so 5M items at full size): enough for the "bought a category" segment
without tripling the table.
"""

from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

import psycopg

HISTORY_DAYS = 548  # 18 months

# (name, population): the segments' "cities of over a million" test reads the population.
CITIES = [
    ("Москва", 13_000_000),
    ("Санкт-Петербург", 5_600_000),
    ("Новосибирск", 1_600_000),
    ("Екатеринбург", 1_500_000),
    ("Казань", 1_300_000),
    ("Тверь", 420_000),
    ("Кострома", 270_000),
    ("Псков", 190_000),
]
CHANNELS = ["email", "sms", "telegram", "whatsapp", "viber"]
CATEGORIES = [
    "Electronics / Video cards",
    "Electronics / Phones",
    "Electronics / Laptops",
    "Home / Kitchen",
    "Home / Garden",
    "Books",
    "Toys",
    "Clothing / Women",
    "Clothing / Men",
    "Sport",
]
PRODUCTS_PER_CATEGORY = 20
# Weights in percent; cancelled and refunded orders do not count for RFM or order rules.
ORDER_STATUSES = [
    ("completed", 75),
    ("shipped", 5),
    ("paid", 5),
    ("pending", 3),
    ("cancelled", 8),
    ("refunded", 4),
]
EVENT_NAMES = [
    ("page_viewed", 35),
    ("product_viewed", 20),
    ("email_opened", 15),
    ("add_to_cart", 10),
    ("search", 10),
    ("email_clicked", 5),
    ("push_opened", 5),
]
ATTRIBUTES = [
    ("city", "string"),
    ("city_population", "number"),
    ("gender", "string"),
    ("children", "number"),
    ("loyalty_member", "bool"),
    ("preferred_channel", "string"),
]


@dataclass(frozen=True)
class Sizes:
    customers: int
    orders: int
    events: int

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        return cls(
            customers=max(1000, round(1_000_000 * scale)),
            orders=max(5000, round(5_000_000 * scale)),
            events=max(10_000, round(10_000_000 * scale)),
        )


def _array(values: list) -> str:
    return "ARRAY[" + ", ".join(_literal(v) for v in values) + "]"


def _literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _pick(weighted: list[tuple[str, int]], random_column: str) -> str:
    """A CASE picking a name by cumulative percent weight from a uniform [0, 1) column."""
    total = sum(weight for _, weight in weighted)
    branches, cumulative = [], 0
    for name, weight in weighted[:-1]:
        cumulative += weight
        branches.append(f"WHEN {random_column} < {cumulative / total} THEN {_literal(name)}")
    return f"CASE {' '.join(branches)} ELSE {_literal(weighted[-1][0])} END"


def _statements(sizes: Sizes) -> list[tuple[str, str]]:
    """(table, SQL) in load order; `%(anchor)s` is the run's midnight."""
    city_names = _array([name for name, _ in CITIES])
    city_populations = _array([population for _, population in CITIES])
    days = f"interval '{HISTORY_DAYS} days'"
    attributes = ", ".join(
        f"({_literal(key)}, {_literal(key.replace('_', ' '))}, {_literal(kind)}, '', %(anchor)s)"
        for key, kind in ATTRIBUTES
    )
    products = len(CATEGORIES) * PRODUCTS_PER_CATEGORY
    return [
        (
            "customers_attributedefinition",
            "INSERT INTO customers_attributedefinition (key, label, type, description, created_at) "
            f"VALUES {attributes}",
        ),
        (
            "customers_customer",
            f"""
            INSERT INTO customers_customer (id, external_id, email, phone, first_name, last_name,
                locale, timezone, birth_date, lifecycle_stage, attributes, created_at, updated_at)
            SELECT g, 'cust-' || lpad(g::text, 8, '0'), 'customer' || g || '@example.com',
                '+7900' || lpad(g::text, 7, '0'),
                (ARRAY['Анна', 'Мария', 'Иван', 'Пётр', 'Елена', 'Ольга', 'Дмитрий'])[1 + floor(r1 * 7)::int],
                (ARRAY['Иванова', 'Петрова', 'Смирнов', 'Кузнецов', 'Попова'])[1 + floor(r2 * 5)::int],
                'ru-RU', 'Europe/Moscow',
                date '1955-01-01' + floor(r3 * 18250)::int,
                'customer',
                jsonb_build_object(
                    'city', ({city_names})[1 + floor(r4 * {len(CITIES)})::int],
                    'city_population', ({city_populations})[1 + floor(r4 * {len(CITIES)})::int],
                    'gender', CASE WHEN r5 < 0.55 THEN 'female' ELSE 'male' END,
                    'children', floor(r6 * 4)::int,
                    'loyalty_member', r7 < 0.3,
                    'preferred_channel', ({_array(CHANNELS)})[1 + floor(r8 * {len(CHANNELS)})::int]
                ),
                %(anchor)s - r9 * interval '900 days', %(anchor)s
            FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
                         random() r6, random() r7, random() r8, random() r9
                  FROM generate_series(1, {sizes.customers}) g) s
            """,
        ),
        (
            "customers_channelidentity",
            """
            INSERT INTO customers_channelidentity (customer_id, channel, address, created_at)
            SELECT id, 'email', email, %(anchor)s FROM customers_customer
            UNION ALL SELECT id, 'sms', phone, %(anchor)s FROM customers_customer
            UNION ALL SELECT id, 'telegram', 'tg' || id, %(anchor)s FROM customers_customer
                WHERE id %% 10 < 3
            """,
        ),
        (
            "customers_consent",
            """
            INSERT INTO customers_consent (customer_id, channel, status, source, updated_at)
            SELECT id, 'email', CASE WHEN random() < 0.875 THEN 'opted_in' ELSE 'opted_out' END,
                   'bench', %(anchor)s
            FROM customers_customer WHERE id %% 10 < 8
            UNION ALL
            SELECT id, 'telegram', CASE WHEN random() < 0.8 THEN 'opted_in' ELSE 'opted_out' END,
                   'bench', %(anchor)s
            FROM customers_customer WHERE id %% 10 < 3
            """,
        ),
        (
            "customers_product",
            f"""
            INSERT INTO customers_product (id, sku, name, category, price, currency, updated_at)
            SELECT g, 'SKU-' || lpad(g::text, 4, '0'), 'Product ' || g,
                   ({_array(CATEGORIES)})[1 + (g - 1) / {PRODUCTS_PER_CATEGORY}],
                   round((100 + random() * 20000)::numeric, 2), 'RUB', %(anchor)s
            FROM generate_series(1, {products}) g
            """,
        ),
        (
            "customers_order",
            # Skewed towards low customer ids, so frequencies range from 0 to dozens.
            f"""
            INSERT INTO customers_order (id, external_id, customer_id, status, placed_at, total,
                currency, promo_code, created_at, updated_at)
            SELECT g, 'ord-' || lpad(g::text, 8, '0'),
                   1 + floor({sizes.customers} * power(r1, 1.6))::int,
                   {_pick(ORDER_STATUSES, "r2")},
                   %(anchor)s - r3 * {days},
                   round((150 * exp(r4 * 4))::numeric, 2),
                   'RUB', CASE WHEN r5 < 0.1 THEN 'SPRING10' ELSE '' END, %(anchor)s, %(anchor)s
            FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5
                  FROM generate_series(1, {sizes.orders}) g) s
            """,
        ),
        (
            "customers_orderitem",
            f"""
            INSERT INTO customers_orderitem (order_id, product_id, sku, name, category, quantity,
                price)
            SELECT o.id, p.id, p.sku, p.name, p.category, 1, o.total
            FROM customers_order o
            JOIN customers_product p ON p.id = 1 + (hashint4(o.id::int) & 2147483647) %% {products}
            """,
        ),
        (
            "customers_event",
            f"""
            INSERT INTO customers_event (event_id, customer_id, name, properties, occurred_at,
                received_at, source)
            SELECT 'ev-' || lpad(g::text, 9, '0'), 1 + floor(r1 * {sizes.customers})::int, name,
                   CASE WHEN name IN ('email_opened', 'email_clicked', 'push_opened')
                        THEN jsonb_build_object('campaign', 'c' || floor(r3 * 50)::int)
                        ELSE jsonb_build_object('category',
                             ({_array(CATEGORIES)})[1 + floor(r3 * {len(CATEGORIES)})::int])
                   END,
                   at, at, 'bench'
            FROM (SELECT g, r1, r3, {_pick(EVENT_NAMES, "r2")} AS name,
                         %(anchor)s - r4 * {days} AS at
                  FROM (SELECT g, random() r1, random() r2, random() r3, random() r4
                        FROM generate_series(1, {sizes.events}) g) s) e
            """,
        ),
    ]


SEQUENCES = ("customers_customer", "customers_product", "customers_order")


def generate(url: str, sizes: Sizes, anchor: datetime) -> dict[str, dict]:
    """Fill the migrated database; returns rows and seconds per table (and for ANALYZE)."""
    timings: dict[str, dict] = {}
    with psycopg.connect(url) as connection:
        for seed, (table, statement) in enumerate(_statements(sizes)):
            started = perf_counter()
            connection.execute("SELECT setseed(%s)", [0.1 + seed / 100])
            rows = connection.execute(statement, {"anchor": anchor}).rowcount
            if table in SEQUENCES:
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            connection.commit()
            seconds = perf_counter() - started
            timings[table] = {"rows": rows, "seconds": round(seconds, 2)}
            print(f"  {table:<32} {rows:>11,} rows {seconds:7.1f} s", flush=True)
        connection.autocommit = True
        started = perf_counter()
        connection.execute("VACUUM ANALYZE")
        seconds = perf_counter() - started
        timings["vacuum analyze"] = {"rows": 0, "seconds": round(seconds, 2)}
        print(f"  {'VACUUM ANALYZE':<32} {'':>16} {seconds:7.1f} s", flush=True)
    return timings


# What a run adds to the generated data: scores, segments and their members, the events Kaskad
# wrote (RFM changes, segment entries and exits) and the latency test's events.
RESET_STATEMENTS = [
    "TRUNCATE customers_segmentmembership, customers_segment, customers_rfmscore",
    "DELETE FROM customers_event WHERE source = 'kaskad' OR event_id LIKE 'bench-latency-%'",
]
# VACUUM drops the deleted events' pages at the table's end, where they were appended.
RESET_VACUUM = [
    "customers_event",
    "customers_segmentmembership",
    "customers_segment",
    "customers_rfmscore",
]


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(f"{server_url.rstrip('/')}/postgres") as connection:
        return bool(
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        )


def reset(url: str) -> dict[str, dict]:
    """Bring a database a previous run kept back to the generated data alone."""
    timings: dict[str, dict] = {}
    started = perf_counter()
    with psycopg.connect(url) as connection:
        rows = 0
        for statement in RESET_STATEMENTS:
            rows += max(0, connection.execute(statement).rowcount)  # TRUNCATE: -1
        connection.commit()
        connection.autocommit = True
        for table in RESET_VACUUM:
            connection.execute(f"VACUUM ANALYZE {table}")
    seconds = perf_counter() - started
    timings["reset"] = {"rows": rows, "seconds": round(seconds, 2)}
    print(f"  {'reset (kept database)':<32} {rows:>11,} rows {seconds:7.1f} s", flush=True)
    return timings
