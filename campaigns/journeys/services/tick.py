"""The timer side of the engine: claim runs whose time has come and advance them.

Any number of workers may run `journeys_due_advance` at once: each claims up to BATCH_SIZE due
runs with FOR UPDATE SKIP LOCKED (through the partial index on open runs' wake_at), advances
them and commits, and goes on until nothing is due or its time budget is spent.
"""

from __future__ import annotations

import time as clock
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from campaigns.journeys.models import OPEN_STATES, Enrollment, Journey, JourneyStatus
from campaigns.journeys.services.engine import enrollments_advance
from campaigns.journeys.services.schedule import journeys_scheduled_run

BATCH_SIZE = 500
BUDGET_SECONDS = 20.0  # one task's share; beat starts another tick every few seconds
WORKERS_PER_TICK = 4  # advance tasks a tick publishes when more than a batch is due


def _claim(now: datetime, size: int) -> list[Enrollment]:
    live = Journey.objects.filter(status=JourneyStatus.LIVE).values("pk")
    query = Enrollment.objects.filter(
        state__in=OPEN_STATES, wake_at__lte=now, journey_id__in=live
    ).order_by("wake_at")
    if connection.vendor == "postgresql":
        query = query.select_for_update(skip_locked=True, of=("self",))
    return list(query[:size])


def journeys_due_advance(
    *, now: datetime | None = None, budget_seconds: float = BUDGET_SECONDS, batch_size=BATCH_SIZE
) -> int:
    """Advance due runs until none is left or the budget is spent; returns how many were claimed."""
    started = clock.monotonic()
    claimed = 0
    while clock.monotonic() - started < budget_seconds:
        moment = now or timezone.now()
        with transaction.atomic():
            rows = _claim(moment, batch_size)
            if not rows:
                break
            enrollments_advance(rows, now=moment)
        claimed += len(rows)
        if now is not None and len(rows) < batch_size:
            break  # a fixed clock (tests, the command): nothing more falls due
    return claimed


def journeys_due_count(now: datetime | None = None, limit: int = BATCH_SIZE + 1) -> int:
    now = now or timezone.now()
    return len(
        Enrollment.objects.filter(state__in=OPEN_STATES, wake_at__lte=now).values_list("pk")[:limit]
    )


def journeys_tick(*, now: datetime | None = None, inline: bool = False) -> dict:
    """Start schedule/date runs that are due, then advance due runs: here (`inline`, the
    management command) or by publishing advance tasks for the workers."""
    started = journeys_scheduled_run(now=now)
    if inline:
        return {"started": started, "advanced": journeys_due_advance(now=now)}
    from api.publishing import task_publish
    from campaigns.journeys.tasks import journeys_advance_due

    due = journeys_due_count(now)
    tasks = 0
    if due:
        tasks = WORKERS_PER_TICK if due > BATCH_SIZE else 1
        for _ in range(tasks):
            task_publish(journeys_advance_due)
    return {"started": started, "due": due, "tasks": tasks}
