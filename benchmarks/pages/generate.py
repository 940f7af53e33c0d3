"""The pages benchmark's data, generated inside PostgreSQL with set-based SQL.

Customers, identities, consents, products, orders with items and events come from the segments
benchmark's statements (benchmarks/segments/generate.py). This module adds what the workspace's
pages read besides: conversations with inbound and outbound messages, RFM scores for every
customer with orders, and a few segments with their members and stored counts.

The data are kept between runs: a marker table (`bench_pages_marker`) records the sizes a
generation finished with, and a later run of the same sizes only measures.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import perf_counter

import psycopg

from benchmarks.segments import generate as segments_generate

MARKER = "bench_pages_marker"
CONVERSATION_CHANNELS = ["telegram", "whatsapp", "email", "sms", "viber"]


@dataclass(frozen=True)
class Sizes:
    customers: int
    orders: int
    events: int
    conversations: int
    messages: int  # inbound + outbound, in conversations

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        base = segments_generate.Sizes.scaled(scale)
        return cls(
            customers=base.customers,
            orders=base.orders,
            events=base.events,
            conversations=max(200, round(200_000 * scale)),
            messages=max(2000, round(2_000_000 * scale)),
        )

    def as_text(self) -> str:
        return f"{self.customers}/{self.orders}/{self.events}/{self.conversations}/{self.messages}"


def _conversation_statements(sizes: Sizes) -> list[tuple[str, str]]:
    channels = segments_generate._array(CONVERSATION_CHANNELS)
    per_conversation = sizes.messages // 2 // sizes.conversations  # inbound, and as many outbound
    return [
        (
            "kaskad_channels_conversation",
            # Spread over customers; 10 % open (a third of them unassigned), 5 % pending.
            f"""
            INSERT INTO kaskad_channels_conversation (id, customer_id, channel, status,
                assignee_id, opened_at, last_message_at, resolved_at)
            SELECT g, 1 + (hashint4(g) & 2147483647) %% {sizes.customers},
                   ({channels})[1 + floor(r1 * {len(CONVERSATION_CHANNELS)})::int],
                   CASE WHEN r2 < 0.10 THEN 'open' WHEN r2 < 0.15 THEN 'pending'
                        ELSE 'resolved' END,
                   CASE WHEN r2 < 0.15 AND r3 < 0.66 THEN %(assignee)s END,
                   at, at + interval '2 hours',
                   CASE WHEN r2 >= 0.15 THEN at + interval '3 hours' END
            FROM (SELECT g, random() r1, random() r2, random() r3,
                         %(anchor)s - random() * interval '365 days' AS at
                  FROM generate_series(1, {sizes.conversations}) g) s
            """,
        ),
        (
            "kaskad_channels_inboundmessage",
            f"""
            INSERT INTO kaskad_channels_inboundmessage (customer_id, conversation_id, channel,
                provider, address, body, payload, provider_message_id, received_at)
            SELECT c.customer_id, c.id, c.channel, 'bench', 'addr-' || c.customer_id,
                   'Здравствуйте! Вопрос по заказу, сообщение ' || n, '{{}}',
                   'in-' || c.id || '-' || n, c.opened_at + n * interval '20 minutes'
            FROM kaskad_channels_conversation c, generate_series(1, {per_conversation}) n
            """,
        ),
        (
            "kaskad_channels_message",
            f"""
            INSERT INTO kaskad_channels_message (customer_id, conversation_id, channel, provider,
                address, subject, body, html, payload, category, source, source_ref, status,
                status_reason, provider_message_id, attempts, rate_limited, parts, queued_at,
                sent_at, delivered_at, updated_at, request_hash)
            SELECT c.customer_id, c.id, c.channel, 'sandbox', 'addr-' || c.customer_id, '',
                   'Добрый день! Ответ оператора номер ' || n, '', '{{}}', 'transactional',
                   'agent', '', 'delivered', '', 'out-' || c.id || '-' || n, 1, 0, 1,
                   c.opened_at + n * interval '20 minutes' + interval '5 minutes',
                   c.opened_at + n * interval '20 minutes' + interval '5 minutes',
                   c.opened_at + n * interval '20 minutes' + interval '6 minutes',
                   c.opened_at + n * interval '20 minutes' + interval '6 minutes', ''
            FROM kaskad_channels_conversation c, generate_series(1, {per_conversation}) n
            """,
        ),
    ]


def _rfm_statement() -> str:
    """Every customer with an order scored as of the anchor, as `rfm_compute` would (the same
    statement the segments benchmark checks against it)."""
    from customers.services.rfm import RFM_SEGMENT_GRID

    segments = ", ".join(
        f"'{RFM_SEGMENT_GRID[r][f - 1].value}'" for r in range(1, 6) for f in range(1, 6)
    )
    return f"""
        INSERT INTO customers_rfmscore (customer_id, recency_days, frequency, monetary, r, f, m,
            segment, as_of, computed_at)
        WITH agg AS (
            SELECT o.customer_id,
                   %(as_of)s::date - max(o.placed_at AT TIME ZONE 'UTC')::date AS recency_days,
                   count(*) AS frequency, sum(o.total) AS monetary
            FROM customers_order o
            WHERE o.status NOT IN ('cancelled', 'refunded') AND o.placed_at < %(until)s
            GROUP BY o.customer_id
        ), scored AS (
            SELECT agg.*,
                   1 + 5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER () AS r,
                   1 + 5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER () AS f,
                   1 + 5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER () AS m
            FROM agg
        )
        SELECT customer_id, recency_days, frequency, monetary, r, f, m,
               (ARRAY[{segments}])[(r - 1) * 5 + f], %(as_of)s, %(anchor)s
        FROM scored
    """


def generated(url: str, sizes: Sizes) -> dict | None:
    """What the marker says an earlier generation of these sizes wrote, or None."""
    with psycopg.connect(url) as connection:
        exists = connection.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0]
        if not exists:
            return None
        row = connection.execute(
            f"SELECT generated_at, seconds FROM {MARKER} WHERE sizes = %s", [sizes.as_text()]
        ).fetchone()
    return {"generated_at": row[0].isoformat(), "seconds": row[1]} if row else None


def _secondary_indexes(connection: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint (primary key, unique)."""
    return connection.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
        "AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ).fetchall()


def _run(connection: psycopg.Connection, seed: int, table: str, statement: str, params) -> dict:
    """One INSERT … SELECT into an empty table: its secondary indexes are dropped first and built
    again afterwards, which is several times faster than maintaining them row by row."""
    started = perf_counter()
    # Foreign keys checked at the statement's end, not at commit: an index cannot be built on a
    # table with checks pending. Dropping, filling and building stay one transaction.
    connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
    indexes = _secondary_indexes(connection, table)
    for name, _definition in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.execute("SELECT setseed(%s)", [0.1 + seed / 100])
    rows = connection.execute(statement, params).rowcount
    for _name, definition in indexes:
        connection.execute(definition)
    if table in segments_generate.SEQUENCES or table == "kaskad_channels_conversation":
        connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
        )
    connection.commit()
    seconds = perf_counter() - started
    print(f"  {table:<32} {rows:>11,} rows {seconds:7.1f} s", flush=True)
    return {"rows": rows, "seconds": round(seconds, 2)}


def _empty(connection: psycopg.Connection) -> None:
    """Remove what an interrupted generation left, so it starts over on empty tables."""
    connection.execute(
        "TRUNCATE customers_segmentmembership, customers_segment, customers_rfmscore, "
        "kaskad_channels_message, kaskad_channels_inboundmessage, kaskad_channels_conversation, "
        "customers_orderitem, customers_order, customers_product, customers_event, "
        "customers_consent, customers_channelidentity, customers_customer, "
        "customers_attributedefinition CASCADE"
    )
    connection.commit()


def generate(url: str, sizes: Sizes, assignee_id: int) -> dict[str, dict]:
    """Fill the migrated database and write the marker; returns rows and seconds per step."""
    started_all = perf_counter()
    anchor = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    base = segments_generate.Sizes(sizes.customers, sizes.orders, sizes.events)
    timings: dict[str, dict] = {}
    params = {"anchor": anchor, "assignee": assignee_id}
    with psycopg.connect(url) as connection:
        _empty(connection)
        connection.execute("SET synchronous_commit = off")
        connection.execute("SET maintenance_work_mem = '512MB'")
        statements = segments_generate._statements(base) + _conversation_statements(sizes)
        for seed, (table, statement) in enumerate(statements):
            timings[table] = _run(connection, seed, table, statement, params)
        rfm_params = {"anchor": anchor, "as_of": anchor.date(), "until": anchor + timedelta(1)}
        connection.execute("SET work_mem = '256MB'")
        timings["customers_rfmscore"] = _run(
            connection, 20, "customers_rfmscore", _rfm_statement(), rfm_params
        )
        connection.autocommit = True
        started = perf_counter()
        connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = {"rows": 0, "seconds": round(perf_counter() - started, 2)}
        print(f"  {'VACUUM ANALYZE':<32} {'':>16} {perf_counter() - started:7.1f} s", flush=True)
    timings["segments"] = _segments()
    seconds = round(perf_counter() - started_all, 1)
    with psycopg.connect(url) as connection:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (sizes text PRIMARY KEY, "
            "generated_at timestamptz NOT NULL, seconds real NOT NULL)"
        )
        connection.execute(f"DELETE FROM {MARKER}")
        connection.execute(
            f"INSERT INTO {MARKER} VALUES (%s, now(), %s)", [sizes.as_text(), seconds]
        )
    timings["total"] = {"rows": 0, "seconds": seconds}
    return timings


def _segments() -> dict:
    """The segments benchmark's five segments, created and filled by Kaskad's own services, so
    their stored member counts are real."""
    from benchmarks.segments.segments import SEGMENTS
    from customers.services.segments import segment_create, segment_refresh

    started = perf_counter()
    members = 0
    for name, rules in SEGMENTS.items():
        segment = segment_create(name=name, kind="dynamic", rules=rules)
        result = segment_refresh(segment=segment)
        members += result.member_count
        print(f"  segment {name:<44} {result.member_count:>9,} members", flush=True)
    seconds = perf_counter() - started
    print(f"  {'segments':<32} {members:>11,} rows {seconds:7.1f} s", flush=True)
    return {"rows": members, "seconds": round(seconds, 2)}
