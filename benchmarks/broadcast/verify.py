"""After the run: one queued message per customer, each with its own promo code, and every
message id on the `send` queue exactly once.

Promo codes: the pool's unique constraints already forbid a code twice in a pool and two codes
for one customer; what is checked here is what the customers get: as many codes handed out as
there are customers, as many distinct codes as codes, and every message's HTML carrying the code
reserved for its customer. Together these mean no two customers were sent the same code.
"""

from __future__ import annotations

import base64
from collections import Counter

import orjson
import psycopg

SEND_QUEUE = "send"
LRANGE_BATCH = 1000


def database_checks(url: str, broadcast_id: int, pool_id: int, audience: int) -> dict:
    from campaigns.promo.models import PromoCode

    codes = PromoCode._meta.db_table
    prefix = f"broadcast:{broadcast_id}:%"
    with psycopg.connect(url) as connection:
        messages = connection.execute(
            """
            SELECT count(*), count(DISTINCT customer_id),
                   count(*) FILTER (WHERE status = 'queued'),
                   count(*) FILTER (WHERE channel = 'email' AND category = 'marketing'),
                   avg(length(html))::int, avg(length(body))::int, avg(length(subject))::int
            FROM kaskad_channels_message WHERE source_ref LIKE %s
            """,
            [prefix],
        ).fetchone()
        statuses = dict(
            connection.execute(
                "SELECT status || ' ' || status_reason, count(*) FROM kaskad_channels_message "
                "WHERE source_ref LIKE %s GROUP BY 1",
                [prefix],
            ).fetchall()
        )
        promo = connection.execute(
            f"""
            SELECT count(*), count(DISTINCT code), count(DISTINCT customer_id)
            FROM {codes} WHERE pool_id = %s AND customer_id IS NOT NULL
            """,
            [pool_id],
        ).fetchone()
        promo_statuses = dict(
            connection.execute(
                f"SELECT status, count(*) FROM {codes} WHERE pool_id = %s GROUP BY 1", [pool_id]
            ).fetchall()
        )
        carrying = connection.execute(
            f"""
            SELECT count(*) FROM kaskad_channels_message m
            JOIN {codes} p ON p.customer_id = m.customer_id AND p.pool_id = %s
            WHERE m.source_ref LIKE %s AND strpos(m.html, p.code) > 0
            """,
            [pool_id, prefix],
        ).fetchone()[0]
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM kaskad_channels_message WHERE source_ref LIKE %s AND "
                "status = 'queued'",
                [prefix],
            )
        ]
    total, customers, queued, marketing_email, html, text, subject = messages
    handed_out, distinct_codes, code_customers = promo
    problems = []
    if total != audience or customers != audience or queued != audience:
        problems.append(
            f"{total:,} messages to {customers:,} customers, {queued:,} queued; expected "
            f"{audience:,} of each: {statuses}"
        )
    if marketing_email != total:
        problems.append(f"{total - marketing_email:,} messages are not marketing email")
    if handed_out != audience or distinct_codes != handed_out or code_customers != handed_out:
        problems.append(
            f"{handed_out:,} codes handed out, {distinct_codes:,} distinct, to "
            f"{code_customers:,} customers; expected {audience:,} of each"
        )
    if carrying != audience:
        problems.append(f"{carrying:,} of {audience:,} messages carry their customer's code")
    return {
        "problems": problems,
        "messages": total,
        "distinct_customers": customers,
        "queued": queued,
        "statuses": statuses,
        "average_chars": {"subject": subject, "html": html, "text": text},
        "promo_codes_handed_out": handed_out,
        "promo_codes_distinct": distinct_codes,
        "promo_code_customers": code_customers,
        "promo_code_statuses": promo_statuses,
        "messages_carrying_their_code": carrying,
        "queued_ids": ids,
    }


def send_queue_ids(redis_url: str) -> Counter:
    """Every message id in the tasks waiting on the `send` queue (all its priority lists)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    found: Counter = Counter()
    try:
        for key in client.scan_iter(match=f"{SEND_QUEUE}*"):
            if client.type(key) != b"list":
                continue
            length = client.llen(key)
            for start in range(0, length, LRANGE_BATCH):
                for raw in client.lrange(key, start, start + LRANGE_BATCH - 1):
                    envelope = orjson.loads(raw)
                    body = envelope["body"]
                    if envelope.get("properties", {}).get("body_encoding") == "base64":
                        body = base64.b64decode(body)
                    args = orjson.loads(body)[0]
                    found.update(args[0])
    finally:
        client.close()
    return found


def queue_checks(redis_url: str, message_ids: list[int]) -> dict:
    on_queue = send_queue_ids(redis_url)
    twice = sum(1 for count in on_queue.values() if count > 1)
    missing = len(set(message_ids) - on_queue.keys())
    problems = []
    if missing:
        problems.append(f"{missing:,} queued messages are not on the send queue")
    # An id twice is not a double send (delivery claims each row) but wasted work: reported.
    return {
        "problems": problems,
        "ids_on_send_queue": sum(on_queue.values()),
        "distinct_ids_on_send_queue": len(on_queue),
        "missing": missing,
        "more_than_once": twice,
    }
