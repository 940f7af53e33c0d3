"""What the workspace's segment and RFM pages read and do, beyond the segment services.

Selectors page with a cursor and never count a big table; the services write the audit entry in
the action's own transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from api.audit import audit_record
from api.csv_export import csv_lines
from api.errors import ValidationFailed
from api.models import AuditAction
from customers.models import Customer, RfmScore, Segment, SegmentMembership
from customers.services.segments import (
    segment_create,
    segment_delete,
    segment_preview_queryset,
    segment_refresh,
    segment_refresh_enqueue,
    segment_update,
)

PAGE_SIZE = 50
PREVIEW_SAMPLE = 10
PREVIEW_TIMEOUT_MS = 1000
AT_LEAST_CAP = 10_000
# A segment whose preview counted at most this many is filled while the staff member waits; a
# larger one (or one the preview could not count in time) by the refresh task queued on save.
SYNC_REFRESH_LIMIT = 50_000
SYNC_REFRESH_TIMEOUT_MS = 5000
CSV_FIELDS = ("external_id", "email", "phone", "first_name", "last_name")


# --- list and members ---------------------------------------------------------------------------


def segment_is_counting(segment: Segment) -> bool:
    """A dynamic segment whose rules changed after its last full refresh (or never refreshed)."""
    if segment.kind != Segment.Kind.DYNAMIC:
        return False
    return segment.refreshed_at is None or segment.refreshed_at < segment.updated_at


def segment_list_page(*, after: str | None) -> tuple[list[Segment], str | None]:
    """Segments by name, PAGE_SIZE at a time; the stored member count, never a live one."""
    segments = Segment.objects.order_by("name").only(
        "name", "kind", "member_count", "refreshed_at", "refresh_error", "updated_at", "description"
    )
    if after:
        segments = segments.filter(name__gt=after)
    rows = list(segments[: PAGE_SIZE + 1])
    for segment in rows:
        segment.counting = segment_is_counting(segment)
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].name
    return rows, None


def segment_members_page(
    *, segment: Segment, after: int | None
) -> tuple[list[SegmentMembership], int | None]:
    """Members, newest customer first (the (segment, customer) index), PAGE_SIZE at a time."""
    members = (
        SegmentMembership.objects.filter(segment=segment)
        .select_related("customer")
        .order_by("-customer_id")
    )
    if after is not None:
        members = members.filter(customer_id__lt=after)
    rows = list(members[: PAGE_SIZE + 1])
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].customer_id
    return rows, None


def segment_members_csv(*, segment: Segment) -> Iterator[str]:
    """The members as CSV lines, streamed in chunks (cells made safe for spreadsheets)."""
    rows = (
        SegmentMembership.objects.filter(segment=segment)
        .order_by("customer_id")
        .values_list(*(f"customer__{name}" for name in CSV_FIELDS), "joined_at")
        .iterator(chunk_size=2000)
    )

    def table():
        yield [*CSV_FIELDS, "joined_at"]
        for *fields, joined_at in rows:
            yield [*fields, joined_at.isoformat()]

    return csv_lines(table())


def rfm_cell_customers_page(
    *, r: int, f: int, after: int | None
) -> tuple[list[RfmScore], int | None]:
    scores = (
        RfmScore.objects.filter(r=r, f=f, customer__erased_at__isnull=True)
        .select_related("customer")
        .order_by("-customer_id")
    )
    if after is not None:
        scores = scores.filter(customer_id__lt=after)
    rows = list(scores[: PAGE_SIZE + 1])
    if len(rows) > PAGE_SIZE:
        return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].customer_id
    return rows, None


# --- preview ------------------------------------------------------------------------------------


@dataclass
class Preview:
    count: int | None = None  # exact
    at_least: int | None = None  # when only a capped count finished in time
    pending: bool = False  # nothing finished in time
    sample: list[Customer] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _time_limit(milliseconds: int):
    """Run the block in a transaction whose statements PostgreSQL cancels after `milliseconds`.

    On SQLite (a laptop's small data) there is no limit. A cancelled statement raises
    DatabaseError out of the block, with the transaction rolled back.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [milliseconds])
        yield


def segment_preview(*, rules: Any) -> Preview:
    """How many customers the rule selects now, and a few of them; never fails on a slow rule."""
    try:
        customers = segment_preview_queryset(rules=rules)
    except ValidationFailed as exc:
        return Preview(errors=exc.errors)
    preview = Preview()
    try:
        with _time_limit(PREVIEW_TIMEOUT_MS):
            preview.count = customers.count()
    except DatabaseError:
        try:
            with _time_limit(PREVIEW_TIMEOUT_MS):
                capped = customers.values("pk")[:AT_LEAST_CAP].count()
            if capped < AT_LEAST_CAP:
                preview.count = capped
            else:
                preview.at_least = capped
        except DatabaseError:
            preview.pending = True
    try:
        with _time_limit(PREVIEW_TIMEOUT_MS):
            preview.sample = list(
                customers.order_by("-pk").only(
                    "external_id", "first_name", "last_name", "email", "phone"
                )[:PREVIEW_SAMPLE]
            )
    except DatabaseError:
        preview.sample = []
    return preview


# --- saving and deleting ------------------------------------------------------------------------


def _snapshot(segment: Segment) -> dict[str, Any]:
    return {"name": segment.name, "description": segment.description, "rules": segment.rules}


def segment_save(
    *,
    actor,
    ip_address: str | None,
    segment: Segment | None,
    name: str,
    description: str,
    rules: Any,
) -> Segment:
    """Create or change a dynamic segment, audited; raises ApiError / ValidationFailed.

    The refresh is queued on commit by the segment services; a small segment is also filled
    right away, so its page shows the real count at once (see segment_fill_now).
    """
    with transaction.atomic():
        if segment is None:
            segment = segment_create(
                name=name, kind=Segment.Kind.DYNAMIC, rules=rules, description=description
            )
            audit_record(
                actor=actor,
                action=AuditAction.SEGMENT_CREATED,
                object_type="segment",
                object_id=segment.pk,
                object_repr=segment.name,
                after=_snapshot(segment),
                ip_address=ip_address,
            )
        else:
            before = _snapshot(segment)
            fields = {"name": name, "description": description}
            if segment.kind == Segment.Kind.DYNAMIC:
                fields["rules"] = rules
            segment = segment_update(segment=segment, fields=fields)
            if segment.kind == Segment.Kind.DYNAMIC and before["rules"] == segment.rules:
                # segment_update marks the segment changed but refreshes only for new rules;
                # refresh anyway, so "counting…" (refreshed before the change) ends.
                segment_refresh_enqueue(segment=segment)
            after = _snapshot(segment)
            changed = [key for key in before if before[key] != after[key]]
            if changed:
                audit_record(
                    actor=actor,
                    action=AuditAction.SEGMENT_CHANGED,
                    object_type="segment",
                    object_id=segment.pk,
                    object_repr=segment.name,
                    before={key: before[key] for key in changed},
                    after={key: after[key] for key in changed},
                    ip_address=ip_address,
                )
    return segment


def segment_fill_now(*, segment: Segment, expected: int | None) -> bool:
    """Refresh a dynamic segment while the staff member waits, if the preview found it small
    (`expected`, None when it could not count in time); whether it was filled. A refresh cut
    off by the time limit leaves the queued one to do it."""
    if segment.kind != Segment.Kind.DYNAMIC or not segment_is_counting(segment):
        return False
    if expected is None or expected > SYNC_REFRESH_LIMIT:
        return False
    try:
        with _time_limit(SYNC_REFRESH_TIMEOUT_MS):
            segment_refresh(segment=segment, now=timezone.now())
    except DatabaseError:
        return False
    return True


def segment_remove(*, actor, ip_address: str | None, segment: Segment) -> None:
    """Delete a segment, audited; ApiError (409) when other segments' rules use it."""
    with transaction.atomic():
        before = _snapshot(segment)
        pk, name = segment.pk, segment.name
        segment_delete(segment=segment)
        audit_record(
            actor=actor,
            action=AuditAction.SEGMENT_DELETED,
            object_type="segment",
            object_id=pk,
            object_repr=name,
            before=before,
            ip_address=ip_address,
        )
