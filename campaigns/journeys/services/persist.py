"""Writing a batch's runs and log: one UPDATE … FROM unnest and one COPY on PostgreSQL (a batch
is hundreds of runs, a big journey's minute a million), Django's bulk methods elsewhere."""

from __future__ import annotations

from django.db import connection
from psycopg.types.json import Jsonb

from campaigns.journeys.models import OPEN_STATES, Enrollment, EnrollmentLog

FIELDS = (
    "step",
    "state",
    "wake_at",
    "context",
    "step_entered_at",
    "updated_at",
    "ended_at",
    "exit_reason",
    "converted_at",
    "revenue",
    "last_step",
)
TYPES = (
    "text",
    "text",
    "timestamptz",
    "jsonb",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "text",
    "timestamptz",
    "numeric",
    "text",
)
LOG_FIELDS = ("enrollment_id", "journey_id", "customer_id", "step", "outcome", "detail", "at")


OPEN_FIELDS = FIELDS[:6]  # a run that goes on changes only these; an ended one all of them


def enrollments_write(enrollments: list[Enrollment]) -> None:
    if not enrollments:
        return
    if connection.vendor != "postgresql":
        Enrollment.objects.bulk_update(enrollments, list(FIELDS), batch_size=500)
        return
    going_on = [e for e in enrollments if e.state in OPEN_STATES]
    ended = [e for e in enrollments if e.state not in OPEN_STATES]
    _update(going_on, OPEN_FIELDS)
    _update(ended, FIELDS)


def _update(enrollments: list[Enrollment], fields: tuple[str, ...]) -> None:
    if not enrollments:
        return
    table = Enrollment._meta.db_table
    types = dict(zip(FIELDS, TYPES, strict=True))
    columns = ", ".join(f"{f} = v.{f}" for f in fields)
    arrays = ", ".join(f"%s::{t}[]" for t in ("bigint", *(types[f] for f in fields)))
    names = ", ".join(("id", *fields))
    values = [[e.pk for e in enrollments]]
    for field in fields:
        column = [getattr(e, field) for e in enrollments]
        values.append([Jsonb(v) for v in column] if field == "context" else column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET {columns} FROM unnest({arrays}) AS v({names}) "
            "WHERE e.id = v.id",
            values,
        )


def logs_write(logs: list[EnrollmentLog]) -> None:
    if not logs:
        return
    if connection.vendor != "postgresql":
        EnrollmentLog.objects.bulk_create(logs, batch_size=1000)
        return
    table = EnrollmentLog._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(LOG_FIELDS)}) FROM STDIN") as copy,
    ):
        for log in logs:
            copy.write_row(tuple(getattr(log, f) for f in LOG_FIELDS))
