"""Results per variant and for the holdout, rolled up into `BroadcastStats`.

`broadcast_stats_refresh` reads one broadcast's recipients joined to their own messages (by
primary key), their completed orders inside the conversion window and their opt-outs, in three
grouped queries, and rewrites the broadcast's few stats rows. The tick runs it every minute while
a broadcast sends and hourly until its conversion window closes; pages and the API read the rows.
Never a scan of the whole messages table.

Conversion is counted per recipient, sent to or not (intent to treat), from the moment the
message went out (the launch for the holdout), so the variants and the holdout compare like with
like and the uplift is measured, not assumed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStats,
    RecipientGroup,
)
from channels.models import Message
from customers.models import ConsentChange, Order

HOLDOUT = "holdout"


def _window_end(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column} + make_interval(days => %(days)s)"
    return f"datetime({column}, '+' || %(days)s || ' days')"


def _hour(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"to_char(date_trunc('hour', {column}), 'YYYY-MM-DD\"T\"HH24:00')"
    return f"strftime('%%Y-%%m-%%dT%%H:00', {column})"


def _tables() -> dict:
    return {
        "recipient": BroadcastRecipient._meta.db_table,
        "message": Message._meta.db_table,
        "orders": Order._meta.db_table,
        "consent": ConsentChange._meta.db_table,
    }


def _key(variant_id, group) -> str | int:
    return HOLDOUT if group == RecipientGroup.HOLDOUT else variant_id


def _targets(broadcast: Broadcast) -> str:
    """Each processed recipient with the moment it counts from and its channel."""
    t = _tables()
    return f"""
        SELECT r.id, r.customer_id, r.variant_id, r."group" AS grp, COALESCE(m.channel, r.channel) AS channel,
               COALESCE(m.sent_at, m.queued_at, %(launched)s) AS t0
        FROM {t["recipient"]} r LEFT JOIN {t["message"]} m ON m.id = r.message_id
        WHERE r.broadcast_id = %(broadcast)s AND r.state IN ('queued', 'suppressed', 'held')
    """


def _message_counts(broadcast: Broadcast, params: dict) -> dict:
    t = _tables()
    sql = f"""
        SELECT r.variant_id, r."group", r.state, r.reason,
               COUNT(*),
               SUM(CASE WHEN m.sent_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.delivered_at IS NOT NULL OR m.opened_at IS NOT NULL
                        OR m.clicked_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.opened_at IS NOT NULL OR m.clicked_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.clicked_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.status IN ('failed', 'bounced') THEN 1 ELSE 0 END)
        FROM {t["recipient"]} r LEFT JOIN {t["message"]} m ON m.id = r.message_id
        WHERE r.broadcast_id = %(broadcast)s
        GROUP BY r.variant_id, r."group", r.state, r.reason
    """
    rows: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for variant_id, group, state, reason, n, sent, delivered, opened, clicked, failed in cursor:
            row = rows.setdefault(_key(variant_id, group), _empty())
            row["audience"] += n
            if state == "pending":
                row["pending"] += n
            elif state == "queued":
                row["queued"] += n
            elif state in ("suppressed", "cancelled"):
                row["suppressed"] += n
                label = reason or state
                row["suppressed_by_reason"][label] = row["suppressed_by_reason"].get(label, 0) + n
            row["sent"] += sent or 0
            row["delivered"] += delivered or 0
            row["opened"] += opened or 0
            row["clicked"] += clicked or 0
            row["failed"] += failed or 0
    return rows


def _conversions(broadcast: Broadcast, params: dict, rows: dict) -> None:
    t = _tables()
    sql = f"""
        SELECT per.variant_id, per.grp, COUNT(*), SUM(per.revenue), SUM(per.revenue * per.revenue)
        FROM (
            SELECT tg.id, tg.variant_id, tg.grp, SUM(o.total) AS revenue
            FROM ({_targets(broadcast)}) tg
            JOIN {t["orders"]} o ON o.customer_id = tg.customer_id AND o.status = 'completed'
                 AND o.placed_at >= tg.t0 AND o.placed_at < {_window_end("tg.t0")}
            GROUP BY tg.id, tg.variant_id, tg.grp
        ) per
        GROUP BY per.variant_id, per.grp
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for variant_id, group, converted, revenue, revenue_sq in cursor:
            row = rows.setdefault(_key(variant_id, group), _empty())
            row["converted"] += converted
            row["revenue"] += Decimal(str(revenue or 0)).quantize(Decimal("0.01"))
            row["revenue_sq"] += float(revenue_sq or 0)


def _opt_outs(broadcast: Broadcast, params: dict, rows: dict) -> None:
    t = _tables()
    sql = f"""
        SELECT tg.variant_id, tg.grp,
               SUM(CASE WHEN c.source LIKE 'esp:%%:complained' THEN 0 ELSE 1 END),
               SUM(CASE WHEN c.source LIKE 'esp:%%:complained' THEN 1 ELSE 0 END)
        FROM ({_targets(broadcast)}) tg
        JOIN {t["consent"]} c ON c.customer_id = tg.customer_id AND c.status = 'opted_out'
             AND c.channel = tg.channel
             AND c.occurred_at >= tg.t0 AND c.occurred_at < {_window_end("tg.t0")}
        WHERE tg.grp <> 'holdout'
        GROUP BY tg.variant_id, tg.grp
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for variant_id, group, unsubscribed, complaints in cursor:
            row = rows.setdefault(_key(variant_id, group), _empty())
            row["unsubscribed"] += unsubscribed or 0
            row["complaints"] += complaints or 0


def _hourly(broadcast: Broadcast, params: dict, rows: dict) -> None:
    t = _tables()
    for column, index in (("m.opened_at", 1), ("m.clicked_at", 2)):
        sql = f"""
            SELECT r.variant_id, {_hour(column)} AS hour, COUNT(*)
            FROM {t["recipient"]} r JOIN {t["message"]} m ON m.id = r.message_id
            WHERE r.broadcast_id = %(broadcast)s AND {column} IS NOT NULL
            GROUP BY r.variant_id, hour
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for variant_id, hour, n in cursor:
                series = rows.setdefault(variant_id, _empty())["hourly_map"]
                series.setdefault(hour, [0, 0])[index - 1] += n


def _empty() -> dict:
    return {
        "audience": 0,
        "pending": 0,
        "queued": 0,
        "suppressed": 0,
        "suppressed_by_reason": {},
        "sent": 0,
        "delivered": 0,
        "opened": 0,
        "clicked": 0,
        "failed": 0,
        "unsubscribed": 0,
        "complaints": 0,
        "converted": 0,
        "revenue": Decimal("0.00"),
        "revenue_sq": 0.0,
        "hourly_map": {},
    }


def broadcast_stats_refresh(broadcast: Broadcast) -> list[BroadcastStats]:
    """Recount the broadcast's results and replace its stats rows (one per variant, one for the
    holdout when there is one)."""
    now = timezone.now()
    launched = broadcast.launched_at or now
    params = {
        "broadcast": broadcast.pk,
        "launched": connection.ops.adapt_datetimefield_value(launched),
        "days": int(broadcast.conversion_days),
    }
    rows = _message_counts(broadcast, params)
    _conversions(broadcast, params, rows)
    _opt_outs(broadcast, params, rows)
    _hourly(broadcast, params, rows)
    variant_ids = set(broadcast.variants.values_list("pk", flat=True))
    stats = []
    for key, row in rows.items():
        if key != HOLDOUT and key not in variant_ids:
            continue  # the A/B rest before the winner is known: counted once it is assigned
        hourly = [[hour, *counts] for hour, counts in sorted(row.pop("hourly_map").items())]
        stats.append(
            BroadcastStats(
                broadcast=broadcast,
                variant_id=None if key == HOLDOUT else key,
                holdout=key == HOLDOUT,
                hourly=hourly,
                refreshed_at=now,
                **row,
            )
        )
    with transaction.atomic():
        BroadcastStats.objects.filter(broadcast=broadcast).delete()
        BroadcastStats.objects.bulk_create(stats)
        Broadcast.objects.filter(pk=broadcast.pk).update(stats_refreshed_at=now)
    broadcast.stats_refreshed_at = now
    return stats
