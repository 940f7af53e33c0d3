"""RFM: each customer's recency, frequency and monetary value, scored 1–5, and the segment they give.

The whole run is set-based SQL in one transaction, with no Python loop over customers:

1. a temporary staging table gets one row per scored customer: the aggregates over counted orders
   and the scores, computed with window functions (quintiles) or CASEs (staff thresholds), and the
   segment from a CASE over (r, f);
2. an `rfm_segment_changed` event is inserted for each customer whose segment differs from the
   stored one (a first score is a change from null), which puts the change on the timeline and
   lets journeys trigger on it;
3. the scores are upserted, and customers no longer scored lose their row.

Staging once and reading it three times keeps the events and the scores consistent with each other
even while orders keep arriving (under READ COMMITTED each statement sees fresh data).

The very first run, when nobody has a score yet (a new installation, a backfill), writes no events,
as a segment's first fill writes none: nobody changed segment, scoring just started. With nothing
to compare with or remove, it skips the staging and inserts the scores directly. Later runs write
an event for a customer's first score as for any change.

Quintile scores are exact integer arithmetic: score = 1 + floor(5 × worse / n), where `worse` is how
many scored customers have a strictly worse value (RANK() − 1) and n how many are scored. Equal
values share a rank, hence a score, whatever the row order; a group of equal values takes the
score of the quintile it starts in. That keeps the many one-order customers at F = 1 (CUME_DIST,
which gives a tie group the quintile it ends in, would lift them all to F = 3 in a typical shop,
emptying the New Customers / Lost cells).

On PostgreSQL the transaction raises `work_mem` (RFM_WORK_MEM): the aggregate over every order
and the three window sorts over every scored customer otherwise spill to disk in small batches.

The SQL runs on SQLite (≥ 3.25, window functions; ≥ 3.24, upserts) and PostgreSQL; the two
fragments that differ are in `_VENDOR_SQL`. See docs/rfm.md.
"""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.models import (
    Customer,
    Event,
    Order,
    RfmDimensionSetting,
    RfmScore,
    RfmSegment,
)

RFM_EVENT_NAME = "rfm_segment_changed"
RFM_EVENT_SOURCE = "kaskad"

# Segment by recency score (rows) and frequency score 1..5 (columns); the table in the issue.
RFM_SEGMENT_GRID: dict[int, tuple[RfmSegment, ...]] = {
    5: (
        RfmSegment.NEW_CUSTOMERS,
        RfmSegment.POTENTIAL_LOYALISTS,
        RfmSegment.POTENTIAL_LOYALISTS,
        RfmSegment.CHAMPIONS,
        RfmSegment.CHAMPIONS,
    ),
    4: (
        RfmSegment.PROMISING,
        RfmSegment.POTENTIAL_LOYALISTS,
        RfmSegment.POTENTIAL_LOYALISTS,
        RfmSegment.LOYAL_CUSTOMERS,
        RfmSegment.LOYAL_CUSTOMERS,
    ),
    3: (
        RfmSegment.ABOUT_TO_SLEEP,
        RfmSegment.ABOUT_TO_SLEEP,
        RfmSegment.NEED_ATTENTION,
        RfmSegment.LOYAL_CUSTOMERS,
        RfmSegment.LOYAL_CUSTOMERS,
    ),
    2: (
        RfmSegment.HIBERNATING,
        RfmSegment.HIBERNATING,
        RfmSegment.AT_RISK,
        RfmSegment.AT_RISK,
        RfmSegment.CANT_LOSE_THEM,
    ),
    1: (
        RfmSegment.LOST,
        RfmSegment.LOST,
        RfmSegment.AT_RISK,
        RfmSegment.AT_RISK,
        RfmSegment.CANT_LOSE_THEM,
    ),
}


# The only SQL that differs between the databases. Recency counts calendar days in UTC between the
# as-of date and the day of the last order; SQLite stores datetimes as naive UTC text.
_VENDOR_SQL: dict[str, dict[str, str]] = {
    "postgresql": {
        "recency_days": "(CAST(%(as_of)s AS date) "
        "- CAST(MAX(o.placed_at) AT TIME ZONE 'UTC' AS date))",
        "properties": "jsonb_build_object('from', old.segment, 'to', s.segment)",
    },
    "sqlite": {
        "recency_days": "CAST(julianday(%(as_of)s) - julianday(date(MAX(o.placed_at))) AS INTEGER)",
        "properties": "json_object('from', old.segment, 'to', s.segment)",
    },
}

STAGING_TABLE = "kaskad_rfm_staging"
# PostgreSQL's work_mem for the run's transaction. The staging statement hash-aggregates every
# counted order by customer and sorts every scored customer three times (one per quintile
# ranking); at the default 4MB the planner walks orders through the customer index instead and
# the sorts spill to disk (at a million customers: about 25 s instead of 11 s). One such
# transaction a night may take a few hundred MB.
RFM_WORK_MEM = "256MB"


class RfmSettingsInvalid(ValueError):
    """A dimension set to fixed thresholds lacks four ascending numbers (the admin prevents it)."""


@dataclass(frozen=True)
class RfmRunResult:
    as_of: date
    scored: int  # customers with a score now
    changed: int  # of those, customers whose segment changed (first scores included)
    removed: int  # customers who had a score and no longer have a counted order
    duration_seconds: float
    events: int = 0  # rfm_segment_changed events written (none on the very first run)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "scored": self.scored,
            "changed": self.changed,
            "removed": self.removed,
            "events": self.events,
            "duration_seconds": self.duration_seconds,
        }


def _quintile_sql(column: str, *, higher_is_better: bool) -> str:
    # RANK() − 1 counts the customers with a strictly worse value; integer division is floor.
    order = "ASC" if higher_is_better else "DESC"
    return f"(1 + 5 * (RANK() OVER (ORDER BY {column} {order}) - 1) / COUNT(*) OVER ())"


def _thresholds_sql(dimension: str, column: str) -> str:
    # Thresholds are parameters; CAST makes SQLite compare them as numbers, not text.
    t = [f"CAST(%({dimension}_t{i})s AS NUMERIC)" for i in range(1, 5)]
    if dimension == RfmDimensionSetting.Dimension.RECENCY:
        return (
            f"(CASE WHEN {column} <= {t[0]} THEN 5 WHEN {column} <= {t[1]} THEN 4 "
            f"WHEN {column} <= {t[2]} THEN 3 WHEN {column} <= {t[3]} THEN 2 ELSE 1 END)"
        )
    return (
        f"(CASE WHEN {column} >= {t[3]} THEN 5 WHEN {column} >= {t[2]} THEN 4 "
        f"WHEN {column} >= {t[1]} THEN 3 WHEN {column} >= {t[0]} THEN 2 ELSE 1 END)"
    )


def _valid_thresholds(setting: RfmDimensionSetting) -> list[Decimal]:
    thresholds = setting.thresholds
    numeric = isinstance(thresholds, list) and all(
        isinstance(t, int | float) and not isinstance(t, bool) for t in thresholds
    )
    if not numeric or len(thresholds) != 4 or sorted(thresholds) != thresholds:
        raise RfmSettingsInvalid(
            f"RFM {setting.get_dimension_display()} is set to fixed thresholds but they are "
            f"{thresholds!r}; give four ascending numbers, e.g. [30, 90, 180, 365]."
        )
    return [Decimal(str(t)) for t in thresholds]


def _score_sql(params: dict[str, Any]) -> dict[str, str]:
    """Each dimension's score expression over the `agg` columns; adds threshold params."""
    settings = {s.dimension: s for s in RfmDimensionSetting.objects.all()}
    columns = {"r": "recency_days", "f": "frequency", "m": "monetary"}
    scores = {}
    for dimension, column in columns.items():
        setting = settings.get(dimension)
        if setting is not None and setting.method == RfmDimensionSetting.Method.THRESHOLDS:
            for i, value in enumerate(_valid_thresholds(setting), start=1):
                params[f"{dimension}_t{i}"] = value
            scores[dimension] = _thresholds_sql(dimension, column)
        else:
            scores[dimension] = _quintile_sql(column, higher_is_better=dimension != "r")
    return scores


def _segment_case_sql() -> str:
    # Literals from the grid above (code constants, never input), so no parameters are needed.
    branches = " ".join(
        f"WHEN r = {r} AND f = {f} THEN '{segment.value}'"
        for r, row in RFM_SEGMENT_GRID.items()
        for f, segment in enumerate(row, start=1)
    )
    return f"CASE {branches} END"


_COLUMNS = "customer_id, recency_days, frequency, monetary, r, f, m, segment"


def _statements(params: dict[str, Any]) -> dict[str, str]:
    vendor = _VENDOR_SQL[connection.vendor]
    scores = _score_sql(params)
    q = connection.ops.quote_name
    orders, customers = q(Order._meta.db_table), q(Customer._meta.db_table)
    events, rfm = q(Event._meta.db_table), q(RfmScore._meta.db_table)
    staging = STAGING_TABLE
    scored = (
        f"SELECT customer_id, recency_days, frequency, monetary, r, f, m, "
        f"{_segment_case_sql()} AS segment FROM ("
        f" SELECT customer_id, recency_days, frequency, monetary,"
        f" {scores['r']} AS r, {scores['f']} AS f, {scores['m']} AS m FROM ("
        # Rounded so that SQLite's float sums of equal amounts compare equal.
        f"  SELECT o.customer_id AS customer_id, {vendor['recency_days']} AS recency_days,"
        f"  COUNT(*) AS frequency, ROUND(SUM(o.total), 2) AS monetary"
        f"  FROM {orders} o JOIN {customers} c ON c.id = o.customer_id"
        f"  WHERE c.erased_at IS NULL AND o.status NOT IN (%(cancelled)s, %(refunded)s)"
        f"  AND o.placed_at < %(until)s"
        f"  GROUP BY o.customer_id"
        f" ) agg"
        f") scored"
    )
    # WHERE true: SQLite needs it to parse ON CONFLICT after INSERT … SELECT … FROM. In id order
    # the scores, their primary key and the customers the foreign key checks lock are visited page
    # by page rather than at random (in PostgreSQL this halves a first run's insert).
    upsert = (
        f"INSERT INTO {rfm} ({_COLUMNS}, as_of, computed_at) "
        f"SELECT {_COLUMNS}, %(as_of)s, %(computed_at)s FROM ({{source}}) s "
        "WHERE true ORDER BY customer_id "
        "ON CONFLICT (customer_id) DO UPDATE SET recency_days = excluded.recency_days, "
        "frequency = excluded.frequency, monetary = excluded.monetary, r = excluded.r, "
        "f = excluded.f, m = excluded.m, segment = excluded.segment, "
        "as_of = excluded.as_of, computed_at = excluded.computed_at"
    )
    return {
        # The first run: straight into the (empty) scores table, nothing to compare with.
        "first_run": upsert.format(source=scored),
        "drop": f"DROP TABLE IF EXISTS {staging}",
        # No primary key: customer_id is unique by the GROUP BY, and keeping an index while the
        # rows arrive in score order, not id order, cost seconds of random index writes.
        "create": (
            f"CREATE TEMPORARY TABLE {staging} (customer_id BIGINT NOT NULL, "
            "recency_days INTEGER NOT NULL, frequency INTEGER NOT NULL, "
            "monetary NUMERIC(16, 2) NOT NULL, r SMALLINT NOT NULL, f SMALLINT NOT NULL, "
            "m SMALLINT NOT NULL, segment VARCHAR(20) NOT NULL)"
        ),
        "stage": f"INSERT INTO {staging} ({_COLUMNS}) {scored}",
        "count_changed": (
            f"SELECT COUNT(*) FROM {staging} s LEFT JOIN {rfm} old "
            "ON old.customer_id = s.customer_id "
            "WHERE old.segment IS NULL OR old.segment <> s.segment"
        ),
        # The event id carries the new segment: a re-run for the same date that finds the same
        # change (a retried or concurrent run) inserts nothing, while a later change that day does.
        "events": (
            f"INSERT INTO {events} (event_id, customer_id, name, properties, occurred_at, "
            "received_at, source) "
            "SELECT 'rfm:' || CAST(s.customer_id AS TEXT) || %(event_id_date)s || s.segment, "
            f"s.customer_id, %(event_name)s, {vendor['properties']}, %(computed_at)s, "
            "%(computed_at)s, %(event_source)s "
            f"FROM {staging} s LEFT JOIN {rfm} old ON old.customer_id = s.customer_id "
            "WHERE old.segment IS NULL OR old.segment <> s.segment "
            "ON CONFLICT (event_id) DO NOTHING"
        ),
        "upsert": upsert.format(source=f"SELECT {_COLUMNS} FROM {staging}"),
        "remove": (
            f"DELETE FROM {rfm} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {staging} s WHERE s.customer_id = {rfm}.customer_id)"
        ),
    }


def rfm_compute(*, as_of: date) -> RfmRunResult:
    """Score every live customer with a counted order placed up to the end of `as_of` (UTC).

    Cancelled and refunded orders do not count; orders placed after `as_of` are ignored, so a past
    date recomputes the scores as they were then. Erased customers are not scored: their orders
    stay in revenue figures, but marketing data about them should not.
    """
    started = time.monotonic()
    computed_at = timezone.now()
    until = datetime.combine(as_of + timedelta(days=1), dt_time.min, tzinfo=UTC)
    ops = connection.ops
    params: dict[str, Any] = {
        "as_of": ops.adapt_datefield_value(as_of),
        "until": ops.adapt_datetimefield_value(until),
        "computed_at": ops.adapt_datetimefield_value(computed_at),
        "cancelled": Order.Status.CANCELLED.value,
        "refunded": Order.Status.REFUNDED.value,
        "event_id_date": f":{as_of.isoformat()}:",
        "event_name": RFM_EVENT_NAME,
        "event_source": RFM_EVENT_SOURCE,
    }
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            # Until the end of the outermost transaction (which this usually is).
            cursor.execute(f"SET LOCAL work_mem = '{RFM_WORK_MEM}'")
        sql = _statements(params)
        events = removed = 0
        if not RfmScore.objects.exists():
            # Nobody scored yet: the installation's first run, a backfill. Nobody changed
            # segment, so no events (as for a segment's first fill), and nothing to compare with
            # or remove. Later runs write an event for a customer's first score too.
            cursor.execute(sql["first_run"], params)
            scored = changed = cursor.rowcount
        else:
            cursor.execute(sql["drop"])
            cursor.execute(sql["create"])
            cursor.execute(sql["stage"], params)
            scored = cursor.rowcount
            if postgresql:  # autovacuum never analyses temporary tables
                cursor.execute(f"ANALYZE {STAGING_TABLE}")
            cursor.execute(sql["count_changed"])
            changed = cursor.fetchone()[0]
            cursor.execute(sql["events"], params)
            events = cursor.rowcount
            cursor.execute(sql["upsert"], params)
            cursor.execute(sql["remove"])
            removed = cursor.rowcount
            cursor.execute(sql["drop"])
        if postgresql:
            # The run rewrote every row (the first one filled an empty table), and the segment
            # refresh that follows at once plans its rfm conditions with these statistics.
            cursor.execute(f"ANALYZE {connection.ops.quote_name(RfmScore._meta.db_table)}")
    return RfmRunResult(
        as_of=as_of,
        scored=scored,
        changed=changed,
        removed=removed,
        events=events,
        duration_seconds=round(time.monotonic() - started, 3),
    )
