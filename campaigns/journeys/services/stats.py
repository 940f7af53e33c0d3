"""Step counts: added per batch with one upsert per (version, step, key), in a fixed order so
concurrent batches never deadlock on them."""

from collections import Counter
from decimal import Decimal

from django.db import connection

from campaigns.journeys.models import StepStat


def step_stats_add(counts: Counter, revenue: Counter | None = None) -> None:
    revenue = revenue or Counter()
    keys = sorted(set(counts) | set(revenue))
    if not keys:
        return
    table = StepStat._meta.db_table
    rows = [
        (
            version_id,
            step,
            key,
            counts.get((version_id, step, key), 0),
            Decimal(revenue.get((version_id, step, key), 0)),
        )
        for version_id, step, key in keys
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (version_id, step, key, count, revenue) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (version_id, step, key) DO UPDATE SET "
            f"count = {table}.count + excluded.count, revenue = {table}.revenue + excluded.revenue",
            rows,
        )
