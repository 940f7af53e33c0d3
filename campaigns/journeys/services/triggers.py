"""Starting runs: one customer (an event, an API call) or a whole set (a segment, a schedule, a
date), under the journey's entry policy.

Policies, per entry key (a trigger property such as `cart_id`; "" when none):
- once: never a second run;
- one_active: a new run only when no run is open;
- cooldown: as one_active, and only `cooldown_seconds` after the last run started;
- every_time: always; the stored key gets "~<run>" so runs never collide.
The database backs the policy: (journey, customer, run) is unique, and so is an open run's
(journey, customer, key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from campaigns.journeys.definition import Definition
from campaigns.journeys.models import (
    OPEN_STATES,
    Enrollment,
    EnrollmentLog,
    EnrollmentState,
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from campaigns.journeys.services.engine import version_definition
from campaigns.journeys.services.stats import step_stats_add

ENTRY_KEY_LENGTH = 180


@dataclass
class EnrolResult:
    enrollment: Enrollment | None
    refused: str = ""  # why no run started: once, active, cooldown, not_live


def _base_key(stored: str) -> str:
    return stored.split("~", 1)[0]


def _policy_refusal(definition: Definition, rows: list[dict], key: str, now: datetime) -> str:
    entry = definition.entry
    same = [r for r in rows if _base_key(r["entry_key"]) == key]
    if entry.policy == "every_time" or not same:
        return ""
    if entry.policy == "once":
        return "once"
    if any(r["state"] in OPEN_STATES for r in same):
        return "active"
    if entry.policy == "cooldown":
        last = max(r["entered_at"] for r in same)
        if last > now - timedelta(seconds=entry.cooldown_seconds):
            return "cooldown"
    return ""


def entry_key_of(definition: Definition, properties: dict) -> str:
    if not definition.entry.key:
        return ""
    value = properties.get(definition.entry.key)
    return "" if value is None else str(value)[:ENTRY_KEY_LENGTH]


def journey_enrol(
    *,
    journey: Journey,
    customer_id: int,
    properties: dict | None = None,
    now: datetime | None = None,
    advance: bool = True,
) -> EnrolResult:
    """Start one run if the policy allows, and (by default) take its first steps at once."""
    from campaigns.journeys.services.engine import enrollments_advance

    now = now or timezone.now()
    properties = properties or {}
    # The journey as stored now: the caller's copy may be older than a pause or a publish.
    status, version_id = Journey.objects.filter(pk=journey.pk).values_list(
        "status", "live_version_id"
    )[0]
    if status != JourneyStatus.LIVE or version_id is None:
        return EnrolResult(None, "not_live")
    definition = version_definition(version_id)
    key = entry_key_of(definition, properties)
    with transaction.atomic():
        rows = list(
            Enrollment.objects.filter(journey=journey, customer_id=customer_id).values(
                "run", "entry_key", "state", "entered_at"
            )
        )
        refusal = _policy_refusal(definition, rows, key, now)
        if refusal:
            return EnrolResult(None, refusal)
        run = max((r["run"] for r in rows), default=0) + 1
        stored_key = f"{key}~{run}" if definition.entry.policy == "every_time" else key
        try:
            with transaction.atomic():
                enrollment = Enrollment.objects.create(
                    journey=journey,
                    version_id=version_id,
                    customer_id=customer_id,
                    run=run,
                    entry_key=stored_key,
                    step=definition.start or "",
                    state=EnrollmentState.ACTIVE,
                    wake_at=now,
                    context={"visits": {definition.start: 1}, "entry": _json_safe(properties)},
                    entered_at=now,
                    step_entered_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # another worker started the same run at the same moment
            return EnrolResult(None, "active")
        EnrollmentLog.objects.create(
            enrollment=enrollment,
            journey_id=journey.pk,
            customer_id=customer_id,
            step=enrollment.step,
            outcome="entered",
            detail=key,
            at=now,
        )
        step_stats_add(_entered_counts(version_id, definition, 1))
        if advance:
            locked = list(Enrollment.objects.select_for_update().filter(pk=enrollment.pk))
            enrollments_advance(locked, now=now)
            enrollment.refresh_from_db()
    return EnrolResult(enrollment)


def _entered_counts(version_id: int, definition: Definition, n: int):
    from collections import Counter

    return Counter({(version_id, definition.start, "entered"): n, (version_id, "", "entered"): n})


def _json_safe(properties: dict) -> dict:
    import orjson

    return orjson.loads(orjson.dumps(properties, default=str))


def journey_enrol_many(
    *,
    journey: Journey,
    customers_sql: str,
    params: list,
    entry: dict,
    now: datetime | None = None,
    key: str = "",
) -> int:
    """Start a run for each customer id the SELECT returns (one column named `id`), set-based,
    under the policy, with entry key `key`. The runs act at the next tick (beat runs it every
    few seconds). Returns how many."""
    import orjson

    now = now or timezone.now()
    status, version_id = Journey.objects.filter(pk=journey.pk).values_list(
        "status", "live_version_id"
    )[0]
    if status != JourneyStatus.LIVE or version_id is None:
        return 0
    definition = version_definition(version_id)
    policy = definition.entry
    table = Enrollment._meta.db_table
    condition = {
        "once": "prev.customer_id IS NULL",
        "one_active": "COALESCE(prev.open_runs, 0) = 0",
        "cooldown": "COALESCE(prev.open_runs, 0) = 0 AND (prev.last_entered IS NULL "
        "OR prev.last_entered < %s)",
        "every_time": "1 = 1",
    }[policy.policy]
    condition_params = (
        [now - timedelta(seconds=policy.cooldown_seconds)] if policy.policy == "cooldown" else []
    )
    next_run = "COALESCE(prev.max_run, 0) + 1"
    key = key[:ENTRY_KEY_LENGTH]
    if policy.policy == "every_time":
        # The stored key is "<key>~<run>"; earlier runs with this key are found by prefix.
        key_sql = f"(%s || '~' || CAST({next_run} AS TEXT))"
        key_filter = "substr(entry_key, 1, %s) = %s"
        key_params = [key]
        filter_params = [len(key) + 1, f"{key}~"]
    else:
        key_sql = "%s"
        key_filter = "entry_key = %s"
        key_params = [key]
        filter_params = [key]
    context = orjson.dumps({"visits": {definition.start: 1}, "entry": entry}).decode()
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (journey_id, version_id, customer_id, run, entry_key, step, state, "
        "wake_at, context, entered_at, step_entered_at, updated_at, exit_reason, last_step) "
        f"SELECT %s, %s, c.id, {next_run}, {key_sql}, %s, 'active', %s, {json_param}, %s, %s, "
        "%s, '', '' "
        f"FROM (SELECT DISTINCT cs.id FROM ({customers_sql}) cs) c "
        "LEFT JOIN (SELECT customer_id, MAX(run) AS max_run, MAX(entered_at) AS last_entered, "
        "SUM(CASE WHEN state IN ('active', 'waiting') THEN 1 ELSE 0 END) AS open_runs "
        f"FROM {table} WHERE journey_id = %s AND {key_filter} GROUP BY customer_id) prev "
        f"ON prev.customer_id = c.id WHERE {condition}"
    )
    sql_params = [
        journey.pk,
        version_id,
        *key_params,
        definition.start,
        now,
        context,
        now,
        now,
        now,
        *params,
        journey.pk,
        *filter_params,
        *condition_params,
    ]
    log_table = EnrollmentLog._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        entered = cursor.rowcount
        if entered:
            cursor.execute(
                f"INSERT INTO {log_table} (enrollment_id, journey_id, customer_id, step, outcome, "
                "detail, at) SELECT id, journey_id, customer_id, step, 'entered', '', entered_at "
                f"FROM {table} WHERE journey_id = %s AND entered_at = %s AND run >= 1 "
                "AND state = 'active'",
                [journey.pk, now],
            )
            step_stats_add(_entered_counts(version_id, definition, entered))
    return entered


def segment_members_sql(segment_id: int) -> tuple[str, list]:
    from customers.models import SegmentMembership

    table = SegmentMembership._meta.db_table
    return f"SELECT customer_id AS id FROM {table} WHERE segment_id = %s", [segment_id]


def journey_triggers_published(
    *, journey: Journey, version: JourneyVersion, first: bool, now: datetime
) -> None:
    """After publishing: enrol the segment's current members if asked; schedule the next run of
    a schedule or date trigger."""
    from campaigns.journeys.services.schedule import next_run_after

    definition = version_definition(version.pk)
    trigger = definition.trigger
    if trigger.kind in ("schedule", "date"):
        Journey.objects.filter(pk=journey.pk).update(next_run_at=next_run_after(trigger, now))
    if first and trigger.kind == "segment_entered" and trigger.include_current:
        journey.refresh_from_db()
        sql, params = segment_members_sql(trigger.segment_id)
        journey_enrol_many(
            journey=journey,
            customers_sql=sql,
            params=params,
            entry={"segment_id": trigger.segment_id},
            now=now,
        )
