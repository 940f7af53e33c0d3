"""Segments: validating them, and keeping their materialised membership in step with the data.

Membership is written set-based: the compiled rule is a queryset, and entering and leaving are
INSERT … SELECT / DELETE statements built from it, so a refresh never loops over customers in
Python. A full refresh evaluates the rule once, into a temporary table; an incremental one, over a
handful of customers, passes the rule's SQL to its statements. Each entry and exit is also written
as an event (`segment_entered` / `segment_left`), which puts it on the timeline and lets journeys
trigger on it.
"""

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from api.errors import ApiError, ValidationFailed
from api.publishing import task_publish_on_commit
from customers.hooks import segment_changed
from customers.models import Customer, Segment, SegmentMembership
from customers.segments.rules import RuleError, rule_dependencies, rule_to_q, rule_validate

SEGMENT_EVENT_SOURCE = "kaskad"
REFRESH_ERROR_LENGTH = 1000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    segment_id: int
    entered: int
    left: int
    member_count: int


def _rule_errors(exc: RuleError) -> list[dict]:
    return [
        {"field": f"rules.{e['path']}" if e["path"] else "rules", "message": e["message"]}
        for e in exc.errors
    ]


def segment_validate(*, kind: str, rules, segment_id: int | None) -> None:
    """Raise ValidationFailed naming `rules.<path>` for each problem with a segment's rules."""
    if kind == Segment.Kind.DYNAMIC:
        if rules is None:
            raise ValidationFailed([{"field": "rules", "message": "a dynamic segment needs rules"}])
        try:
            rule_validate(rules, segment_id=segment_id)
        except RuleError as exc:
            raise ValidationFailed(_rule_errors(exc)) from None
    elif rules is not None:
        raise ValidationFailed([{"field": "rules", "message": "a static segment has no rules"}])


def segment_create(
    *,
    name: str,
    kind: str,
    rules=None,
    description: str = "",
    external_ids: list[str] | None = None,
) -> Segment:
    if Segment.objects.filter(name=name).exists():
        raise ApiError(f"A segment named '{name}' exists.", code="already_exists", status_code=409)
    segment_validate(kind=kind, rules=rules, segment_id=None)
    with transaction.atomic():
        segment = Segment.objects.create(name=name, kind=kind, rules=rules, description=description)
        if external_ids:
            segment_members_add(segment=segment, external_ids=external_ids)
            segment.refresh_from_db()
    if segment.kind == Segment.Kind.DYNAMIC:
        segment_refresh_enqueue(segment=segment)
    return segment


def segment_update(*, segment: Segment, fields: dict) -> Segment:
    """Change name, description or rules (a segment's kind is fixed). New rules refresh it."""
    if (
        "name" in fields
        and Segment.objects.filter(name=fields["name"]).exclude(pk=segment.pk).exists()
    ):
        raise ApiError(
            f"A segment named '{fields['name']}' exists.", code="already_exists", status_code=409
        )
    rules_changed = "rules" in fields and fields["rules"] != segment.rules
    if rules_changed:
        segment_validate(kind=segment.kind, rules=fields["rules"], segment_id=segment.pk)
    for name in ("name", "description", "rules"):
        if name in fields:
            setattr(segment, name, fields[name])
    segment.updated_at = timezone.now()
    segment.save()
    if rules_changed:
        segment_refresh_enqueue(segment=segment)
    return segment


def segment_delete(*, segment: Segment) -> None:
    dependants = [
        s.name
        for s in Segment.objects.filter(kind=Segment.Kind.DYNAMIC).exclude(pk=segment.pk)
        if segment.pk in rule_dependencies(s.rules).segment_ids
    ]
    if dependants:
        raise ApiError(
            f"Segments {', '.join(dependants)} use this segment in their rules.",
            code="segment_in_use",
            status_code=409,
        )
    try:
        segment.delete()
    except ProtectedError:  # broadcasts keep the segment they were sent to
        raise ApiError(
            "Broadcasts use this segment; it cannot be deleted.",
            code="segment_in_use",
            status_code=409,
        ) from None


def segment_preview_queryset(*, rules, now: datetime | None = None) -> QuerySet[Customer]:
    """The customers a rule would select now, without saving anything."""
    try:
        rule_validate(rules)
    except RuleError as exc:
        raise ValidationFailed(_rule_errors(exc)) from None
    return _live_customers().filter(rule_to_q(rules, now=now or timezone.now()))


def _live_customers() -> QuerySet[Customer]:
    return Customer.objects.filter(erased_at__isnull=True)


def segment_refresh_enqueue(*, segment: Segment) -> None:
    """Refresh in the background once the current transaction commits."""
    from customers.tasks import refresh_segment  # tasks import this module

    task_publish_on_commit(refresh_segment, segment.pk)


def segments_refresh_enqueue_for_customers(
    *, customer_ids: Iterable[int], kinds: set[str], event_names: Iterable[str] = ()
) -> None:
    """After the current transaction commits, re-evaluate these customers in the background.

    Called by every service that changes what rules read (profiles, consents, events, orders).
    """
    ids = sorted(set(customer_ids))
    if not ids or not Segment.objects.filter(kind=Segment.Kind.DYNAMIC).exists():
        return
    from customers.tasks import refresh_segments_for_customers  # tasks import this module

    names = sorted(set(event_names))
    task_publish_on_commit(refresh_segments_for_customers, ids, sorted(kinds), names)


# --- Refreshing membership ----------------------------------------------------------------------


def _json_param() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _segment_event_sql(
    segment: Segment, name: str, customer_column: str, now: datetime
) -> tuple[str, list]:
    """SELECT-list of an event row per customer, for INSERT INTO customers_event … SELECT."""
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    properties = json.dumps({"segment_id": segment.pk, "segment": segment.name})
    sql = (
        "INSERT INTO customers_event "
        "(event_id, customer_id, name, properties, occurred_at, received_at, source) "
        f"SELECT %s || {customer_column}, {customer_column}, %s, {_json_param()}, %s, %s, %s "
    )
    event_id_prefix = f"segment:{segment.pk}:{name}:{stamp}:"
    return sql, [event_id_prefix, name, properties, now, now, SEGMENT_EVENT_SOURCE]


def _enter(segment: Segment, candidates: QuerySet[Customer], now: datetime) -> int:
    """Add the candidates who are not members yet, with a segment_entered event each.

    For a few customers (incremental refreshes, static segments): the candidates' SQL runs twice.
    """
    try:
        candidates_sql, candidates_params = candidates.values("id").query.sql_with_params()
    except EmptyResultSet:  # a rule the ORM knows matches nobody
        return 0
    table = SegmentMembership._meta.db_table
    newcomers = (
        f"FROM ({candidates_sql}) w WHERE NOT EXISTS "
        f"(SELECT 1 FROM {table} m WHERE m.segment_id = %s AND m.customer_id = w.id)"
    )
    params = [*candidates_params, segment.pk]
    event_sql, event_params = _segment_event_sql(segment, "segment_entered", "w.id", now)
    with connection.cursor() as cursor:
        cursor.execute(event_sql + newcomers, [*event_params, *params])
        # Existing members are skipped by the unique constraint, not by NOT EXISTS: a statement
        # that reads the table it is filling makes PostgreSQL rescan it per row on a first fill.
        # ("WHERE true" lets SQLite parse ON CONFLICT after a SELECT.)
        cursor.execute(
            f"INSERT INTO {table} (segment_id, customer_id, joined_at) SELECT %s, w.id, %s "
            f"FROM ({candidates_sql}) w WHERE true "
            "ON CONFLICT (segment_id, customer_id) DO NOTHING",
            [segment.pk, now, *candidates_params],
        )
        return cursor.rowcount


def _leave(
    segment: Segment,
    *,
    keep: QuerySet[Customer] | None,
    scope: QuerySet[Customer] | None,
    now: datetime,
) -> int:
    """Remove members (within `scope`, else all) who are not in `keep`, with a segment_left event each."""
    table = SegmentMembership._meta.db_table
    leavers = f"FROM {table} WHERE segment_id = %s"  # no alias: SQLite's DELETE takes none
    params: list = [segment.pk]
    for queryset, operator in ((keep, "NOT IN"), (scope, "IN")):
        if queryset is None:
            continue
        try:
            sql, queryset_params = queryset.values("id").query.sql_with_params()
        except EmptyResultSet:
            if operator == "IN":
                return 0  # nobody in scope
            continue  # nobody to keep
        leavers += f" AND customer_id {operator} ({sql})"
        params += list(queryset_params)
    event_sql, event_params = _segment_event_sql(
        segment, "segment_left", f"{table}.customer_id", now
    )
    with connection.cursor() as cursor:
        cursor.execute(event_sql + leavers, [*event_params, *params])
        cursor.execute(f"DELETE {leavers}", params)
        return cursor.rowcount


# The rule's result, and who of it is not a member yet, for one full refresh. Temporary tables are
# private to the connection and dropped at the end of the refresh (and rolled back with it).
WANTED_TABLE = "kaskad_segment_wanted"
ENTERING_TABLE = "kaskad_segment_entering"


def _refresh_all_members(
    segment: Segment, wanted: QuerySet[Customer], now: datetime, *, with_events: bool
) -> tuple[int, int, int]:
    """Make the membership exactly `wanted`; returns (entered, left, members).

    The rule is evaluated once, into a temporary table, and entering and leaving are anti-joins
    of that table with the membership. (Passing the rule's SQL to each statement instead ran it
    four times, and `NOT IN (rule)` became a per-row rescan once the rule's result outgrew
    work_mem.) The newcomers are set apart before any member is written, so no statement reads
    the membership table while filling it. The caller holds the segment's row lock, which every
    writer of a dynamic segment's membership takes.
    """
    table = SegmentMembership._meta.db_table
    with connection.cursor() as cursor:
        members = _materialise(cursor, WANTED_TABLE, wanted)
        had_members = SegmentMembership.objects.filter(segment=segment).exists()
        if had_members:
            _materialise_sql(
                cursor,
                ENTERING_TABLE,
                f"SELECT w.customer_id FROM {WANTED_TABLE} w WHERE NOT EXISTS (SELECT 1 "
                f"FROM {table} m WHERE m.segment_id = %s AND m.customer_id = w.customer_id)",
                [segment.pk],
            )
            entering = ENTERING_TABLE
        else:  # everyone wanted enters, nobody leaves
            entering = WANTED_TABLE
        if with_events:
            event_sql, event_params = _segment_event_sql(
                segment, "segment_entered", "e.customer_id", now
            )
            cursor.execute(f"{event_sql} FROM {entering} e", event_params)
        # A plain INSERT: the newcomers are not members, and the lock keeps it so. (ON CONFLICT
        # would cost about a third more per row, for nothing.)
        cursor.execute(
            f"INSERT INTO {table} (segment_id, customer_id, joined_at) "
            f"SELECT %s, customer_id, %s FROM {entering}",
            [segment.pk, now],
        )
        entered = cursor.rowcount
        left = 0
        if had_members:
            leavers = (  # no alias: SQLite's DELETE takes none
                f"FROM {table} WHERE segment_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {WANTED_TABLE} w WHERE w.customer_id = {table}.customer_id)"
            )
            event_sql, event_params = _segment_event_sql(
                segment, "segment_left", f"{table}.customer_id", now
            )
            cursor.execute(f"{event_sql} {leavers}", [*event_params, segment.pk])
            cursor.execute(f"DELETE {leavers}", [segment.pk])
            left = cursor.rowcount
        for temporary in (WANTED_TABLE, ENTERING_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {temporary}")
    return entered, left, members


def _materialise(cursor, name: str, customers: QuerySet[Customer]) -> int:
    """A temporary table `name` (customer_id) holding these customers' ids; returns how many."""
    try:
        sql, params = customers.values("id").query.sql_with_params()
    except EmptyResultSet:  # a rule the ORM knows matches nobody
        sql, params = f"SELECT id FROM {Customer._meta.db_table} WHERE 1 = 0", ()
    return _materialise_sql(cursor, name, f"SELECT id FROM ({sql}) rule", params)


def _materialise_sql(cursor, name: str, select_sql: str, params) -> int:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMPORARY TABLE {name} (customer_id BIGINT NOT NULL)")
    cursor.execute(f"INSERT INTO {name} (customer_id) {select_sql}", params)
    rows = cursor.rowcount
    if connection.vendor == "postgresql":
        # Autovacuum never analyses temporary tables; without statistics PostgreSQL guesses
        # their size from their pages but nothing about their values.
        cursor.execute(f"ANALYZE {name}")
    return rows


def segment_refresh(*, segment: Segment, now: datetime | None = None) -> RefreshResult:
    """Re-evaluate a dynamic segment for every customer."""
    now = now or timezone.now()
    if segment.kind != Segment.Kind.DYNAMIC:
        return RefreshResult(segment.pk, 0, 0, segment.member_count)
    with transaction.atomic():
        # One refresh at a time.
        locked = Segment.objects.select_for_update().only("refreshed_at").get(pk=segment.pk)
        wanted = _live_customers().filter(rule_to_q(segment.rules, now=now))
        # A new segment's first members did not "enter" anything: no event for each of them
        # (journeys that want current members start from the segment itself).
        first_fill = locked.refreshed_at is None
        entered, left, members = _refresh_all_members(
            segment, wanted, now, with_events=not first_fill
        )
        Segment.objects.filter(pk=segment.pk).update(
            member_count=members, refreshed_at=now, refresh_error=""
        )
        if not first_fill and (entered or left):
            segment_changed(segment.pk, now)
        return RefreshResult(segment.pk, entered, left, members)


def segments_in_dependency_order(segments: Iterable[Segment]) -> list[Segment]:
    """Segments a rule refers to come before the segments that refer to them (rules have no cycles)."""
    remaining = {s.pk: s for s in segments}
    ordered: list[Segment] = []
    while remaining:
        ready = [
            s
            for s in remaining.values()
            if s.kind == Segment.Kind.STATIC or not (_referenced_segments(s) & remaining.keys())
        ]
        if not ready:  # cannot happen for validated rules; refresh the rest in id order
            ready = list(remaining.values())
        for segment in sorted(ready, key=lambda s: s.pk):
            ordered.append(segment)
            del remaining[segment.pk]
    return ordered


def segments_refresh_all(*, now: datetime | None = None) -> list[RefreshResult]:
    """Full refresh of every dynamic segment, referenced segments first.

    A segment whose refresh fails is logged and marked (`refresh_error`), and the others go on:
    one bad rule must not stop every segment, nor the nightly RFM job that ends with this.
    """
    now = now or timezone.now()
    results = []
    for segment in segments_in_dependency_order(Segment.objects.all()):
        if segment.kind != Segment.Kind.DYNAMIC:
            continue
        result = segment_refresh_or_mark(segment=segment, now=now)
        if result is not None:
            results.append(result)
    return results


def segment_refresh_or_mark(
    *, segment: Segment, now: datetime | None = None
) -> RefreshResult | None:
    """`segment_refresh`, except that a failure is logged and recorded on the segment
    (`refresh_error`) instead of raised; None then."""
    with _marking_failure(segment):
        return segment_refresh(segment=segment, now=now)
    return None


def _referenced_segments(segment: Segment) -> frozenset[int]:
    try:
        return rule_dependencies(segment.rules).segment_ids
    except Exception:  # a stored rule that no longer reads; its refresh will say why
        return frozenset()


@contextmanager
def _marking_failure(segment: Segment) -> Iterator[None]:
    """Run one segment's refresh (in its own transaction); on failure log it, record why on the
    segment and carry on. A full refresh that works clears the mark (segment_refresh)."""
    try:
        yield
    except Exception as exc:
        logger.exception("refreshing segment %s (%s) failed", segment.pk, segment.name)
        Segment.objects.filter(pk=segment.pk).update(
            refresh_error=f"{timezone.now():%Y-%m-%d %H:%M} UTC: {type(exc).__name__}: {exc}"[
                :REFRESH_ERROR_LENGTH
            ]
        )


def segments_refresh_for_customers(
    *,
    customer_ids: Iterable[int],
    kinds: set[str],
    event_names: set[str] = frozenset(),
    now: datetime | None = None,
) -> list[RefreshResult]:
    """Re-evaluate only these customers, against only the segments whose rules read what changed."""
    now = now or timezone.now()
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    results = []
    for segment in segments_in_dependency_order(Segment.objects.filter(kind=Segment.Kind.DYNAMIC)):
        with _marking_failure(segment):
            result = _refresh_some(segment, ids, kinds, event_names, now)
            if result is not None:
                results.append(result)
                kinds = kinds | {"segments"}  # segments built on this one come later in the order
    return results


def _refresh_some(
    segment: Segment, ids: list[int], kinds: set[str], event_names: set[str], now: datetime
) -> RefreshResult | None:
    """Re-evaluate these customers for one segment, if its rule reads what changed; the result
    when someone entered or left."""
    deps = rule_dependencies(segment.rules)
    touched = deps.kinds & kinds
    if not touched or (
        touched == {"events"} and event_names and not deps.event_names & event_names
    ):
        return None
    with transaction.atomic():
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        scope = Customer.objects.filter(pk__in=ids)
        wanted = _live_customers().filter(pk__in=ids).filter(rule_to_q(segment.rules, now=now))
        entered = _enter(segment, wanted, now)
        left = _leave(segment, keep=wanted, scope=scope, now=now)
        if not (entered or left):
            return None
        return _finish(segment, entered, left, now, full=False)


def _finish(
    segment: Segment, entered: int, left: int, now: datetime, full: bool = True
) -> RefreshResult:
    # The locked row's count plus this change: counting a million-member segment on every
    # incremental refresh would put a full index scan on the event-to-membership path.
    locked = Segment.objects.select_for_update().only("member_count").get(pk=segment.pk)
    count = locked.member_count + entered - left
    updates = {"member_count": count}
    if full:
        updates["refreshed_at"] = now
    Segment.objects.filter(pk=segment.pk).update(**updates)
    if entered or left:
        segment_changed(segment.pk, now)
    return RefreshResult(segment.pk, entered, left, count)


# --- Static segments ----------------------------------------------------------------------------


def _static_only(segment: Segment) -> None:
    if segment.kind != Segment.Kind.STATIC:
        raise ApiError(
            "Members of a dynamic segment come from its rules.",
            code="segment_is_dynamic",
            status_code=409,
        )


def _resolve(external_ids: list[str]) -> list[int]:
    if not external_ids:
        raise ValidationFailed([{"field": "external_ids", "message": "give at least one"}])
    found = dict(
        _live_customers().filter(external_id__in=external_ids).values_list("external_id", "pk")
    )
    errors = [
        {"field": f"external_ids[{i}]", "message": f"no customer with external_id '{e}'"}
        for i, e in enumerate(external_ids)
        if e not in found
    ]
    if errors:
        raise ValidationFailed(errors)
    return list(found.values())


def segment_members_add(*, segment: Segment, external_ids: list[str]) -> RefreshResult:
    _static_only(segment)
    now = timezone.now()
    with transaction.atomic():
        ids = _resolve(external_ids)
        entered = _enter(segment, Customer.objects.filter(pk__in=ids), now)
        return _finish(segment, entered, 0, now)


def segment_members_remove(*, segment: Segment, external_ids: list[str]) -> RefreshResult:
    _static_only(segment)
    now = timezone.now()
    with transaction.atomic():
        ids = _resolve(external_ids)
        left = _leave(segment, keep=None, scope=Customer.objects.filter(pk__in=ids), now=now)
        return _finish(segment, 0, left, now)
