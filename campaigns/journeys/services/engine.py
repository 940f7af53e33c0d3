"""The journey engine: moves a batch of locked enrollments through their steps.

`enrollments_advance` is the one way a run moves. Callers (the timer tick, an arriving outcome, a
new enrollment) lock the rows first, in one transaction, and the whole batch commits together:
the messages it stores, the codes and points it hands out, the enrollments' new steps, the log
and the counts. A worker killed half way rolls all of it back, so the next claim redoes the step
from where the committed state says, and nothing is skipped or sent twice (each send also carries
an idempotency key: enrollment, step, attempt).

A run walks until it must wait (a timer or an outcome), ends, or needs a message sent. Sends of
the whole batch are stored together (`messages_send_many`), then the runs that sent go on walking.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.journeys.definition import Definition, definition_parse
from campaigns.journeys.models import (
    OPEN_STATES,
    Enrollment,
    EnrollmentLog,
    EnrollmentState,
    Journey,
    JourneyVersion,
)

logger = logging.getLogger(__name__)

MAX_TRANSITIONS = 60  # steps one run may take in one go: a loop without a wait stops here
CUSTOMER_FIELDS = (
    "id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "locale",
    "timezone",
    "birth_date",
    "lifecycle_stage",
    "attributes",
    "created_at",
    "erased_at",
)


@lru_cache(maxsize=512)
def _parsed_version(version_id: int, published_at: datetime) -> Definition:
    return definition_parse(JourneyVersion.objects.get(pk=version_id).definition)


def version_definition(version_id: int) -> Definition:
    """Published versions never change, so each process parses one once. The key includes the
    publishing time: an id can come back after a rollback (SQLite reuses them)."""
    published_at = JourneyVersion.objects.filter(pk=version_id).values_list(
        "published_at", flat=True
    )[0]
    return _parsed_version(version_id, published_at)


def version_definitions(version_ids) -> dict[int, Definition]:
    rows = JourneyVersion.objects.filter(pk__in=set(version_ids)).values_list("pk", "published_at")
    return {pk: _parsed_version(pk, published_at) for pk, published_at in rows}


@dataclass
class Signal:
    """Something that happened to a customer that may end a wait, convert or exit a run.

    kind: message (status of message_id: delivered, opened, clicked), reply (inbound on
    `channel`), event (`name`, `properties`), order (`order_id`, `total`, `promo_code`),
    segment_entered / segment_left (`segment_id`), opted_out, promo_redeemed (`promo_code`)."""

    kind: str
    at: datetime
    message_id: int | None = None
    status: str = ""
    channel: str = ""
    name: str = ""
    properties: dict = field(default_factory=dict)
    order_id: int | None = None
    total: Decimal | None = None
    promo_code: str = ""
    segment_id: int | None = None


@dataclass
class SendRequest:
    step_id: str
    key: str  # idempotency key
    channel: str  # a channel or "best"
    template_id: int
    template_version_id: int | None
    category: str = "marketing"
    survey_id: int | None = None  # a survey step: analytics sends the survey (extensions.py)
    # Filled by the flush:
    message_id: int | None = None
    status: str = ""
    reason: str = ""
    sent_channel: str = ""
    delayed_until: datetime | None = None


@dataclass
class Run:
    enrollment: Enrollment
    definition: Definition
    customer: Any
    signal: Signal | None = None
    send: SendRequest | None = None
    transitions: int = 0
    changed: bool = False

    @property
    def context(self) -> dict:
        return self.enrollment.context


@dataclass
class Batch:
    """What a batch writes when it ends: the log, the counts and the revenue per step."""

    now: datetime
    logs: list[EnrollmentLog] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # (version id, step, key) -> n
    revenue: Counter = field(default_factory=Counter)  # (version id, step, key) -> Decimal

    def log(self, run: Run, outcome: str, detail: str = "", step: str | None = None) -> None:
        e = run.enrollment
        self.logs.append(
            EnrollmentLog(
                enrollment_id=e.pk,
                journey_id=e.journey_id,
                customer_id=e.customer_id,
                step=e.step if step is None else step,
                outcome=outcome[:80],
                detail=detail[:300],
                at=self.now,
            )
        )

    def count(self, run: Run, step: str, key: str, n: int = 1) -> None:
        self.counts[(run.enrollment.version_id, step, key)] += n


# --- Moving a run --------------------------------------------------------------------------------
def move(batch: Batch, run: Run, label: str, target: str | None, *, result: str = "") -> None:
    """Leave the current step by the way out `label` towards `target` (None: the path ends).
    The step's result (for branches on it later) is `result`, else the label."""
    e = run.enrollment
    batch.count(run, e.step, f"passed:{label}")
    run.context.setdefault("results", {})[e.step] = result or label
    run.changed = True
    if target is None:
        end(batch, run, EnrollmentState.COMPLETED, "")
        return
    e.step = target
    e.step_entered_at = batch.now
    e.state = EnrollmentState.ACTIVE
    e.wake_at = batch.now
    visits = run.context.setdefault("visits", {})
    visits[target] = visits.get(target, 0) + 1
    batch.count(run, target, "entered")
    step = run.definition.step(target)
    if step is not None and step.max_visits and visits[target] > step.max_visits:
        end(batch, run, EnrollmentState.EXITED, "loop_limit")


def wait(batch: Batch, run: Run, until: datetime | None, detail: str = "") -> None:
    e = run.enrollment
    if e.state != EnrollmentState.WAITING or e.wake_at != until:
        run.changed = True
        if e.state != EnrollmentState.WAITING:
            batch.log(run, "waiting", detail)
    e.state = EnrollmentState.WAITING
    e.wake_at = until


def end(batch: Batch, run: Run, state: str, reason: str, revenue: Decimal | None = None) -> None:
    e = run.enrollment
    if e.state not in OPEN_STATES:
        return
    e.state = state
    e.wake_at = None
    e.ended_at = batch.now
    e.last_step = e.step
    e.exit_reason = reason[:60]
    run.changed = True
    if state == EnrollmentState.CONVERTED:
        e.converted_at = batch.now
        e.revenue = revenue
        batch.count(run, e.step, "converted")
        if revenue:
            batch.revenue[(e.version_id, e.step, "converted")] += revenue
        batch.log(run, "converted", f"{revenue}" if revenue is not None else "")
    elif state == EnrollmentState.EXITED:
        batch.count(run, e.step, f"exited:{reason}")
        batch.log(run, f"exited:{reason}")
    else:
        batch.count(run, e.step, "completed")
        batch.log(run, "completed")


def is_open(run: Run) -> bool:
    return run.enrollment.state in OPEN_STATES


# --- The batch -----------------------------------------------------------------------------------
def enrollments_advance(
    enrollments: list[Enrollment],
    *,
    now: datetime | None = None,
    signals: dict[int, Signal] | None = None,
) -> int:
    """Advance enrollments the caller has locked (in this transaction). Returns how many moved.

    `signals` maps an enrollment id to what just happened to it (an outcome). Without one, a run
    acts on its step as its timer says (a new step, a wait ending)."""
    from campaigns.journeys.services.outcomes import goals_from_data
    from campaigns.journeys.services.sending import sends_flush
    from campaigns.journeys.services.steps import step_handle
    from customers.models import Customer

    if not enrollments:
        return 0
    now = now or timezone.now()
    signals = signals or {}
    batch = Batch(now=now)
    customers = Customer.objects.only(*CUSTOMER_FIELDS).in_bulk(
        {e.customer_id for e in enrollments}
    )
    statuses = dict(
        Journey.objects.filter(pk__in={e.journey_id for e in enrollments}).values_list(
            "pk", "status"
        )
    )
    definitions = version_definitions(e.version_id for e in enrollments)
    runs = []
    for e in enrollments:
        customer = customers.get(e.customer_id)
        run = Run(e, definitions[e.version_id], customer, signal=signals.get(e.pk))
        runs.append(run)
        if customer is None or customer.erased_at is not None:
            end(batch, run, EnrollmentState.EXITED, "customer_erased")
        elif run.signal is not None:
            _goal_or_exit(batch, run)
    goals_from_data(batch, [r for r in runs if r.signal is None and is_open(r)])
    with transaction.atomic():
        walking = [
            r for r in runs if is_open(r) and statuses.get(r.enrollment.journey_id) == "live"
        ]
        while walking:
            for run in walking:
                _walk(batch, run, step_handle)
            sending = [r for r in walking if r.send is not None and r.send.message_id is None]
            if not sending:
                break
            sends_flush(batch, sending)
            walking = [r for r in sending if is_open(r)]
        _save(batch, runs)
    return sum(1 for r in runs if r.changed)


def _goal_or_exit(batch: Batch, run: Run) -> None:
    """Goals and exit criteria apply at once, whatever step the run is at."""
    from campaigns.journeys.services.outcomes import exit_reason, goal_reached

    signal = run.signal
    if goal_reached(run, signal):
        revenue = signal.total if signal.kind == "order" else None
        end(batch, run, EnrollmentState.CONVERTED, "goal", revenue=revenue)
        return
    reason = exit_reason(run, signal)
    if reason:
        end(batch, run, EnrollmentState.EXITED, reason)


def _walk(batch: Batch, run: Run, step_handle) -> None:
    while is_open(run) and run.transitions < MAX_TRANSITIONS:
        e = run.enrollment
        step = run.definition.step(e.step)
        if step is None:  # a version without this step (cannot happen once published)
            end(batch, run, EnrollmentState.EXITED, "unknown_step")
            return
        waits_on_timer = e.state == EnrollmentState.WAITING and step.type not in ("wait", "cascade")
        if run.signal is not None and waits_on_timer:
            return  # a holdout, a journey limit: only time moves it
        before = (e.step, e.state, e.wake_at)
        run.transitions += 1
        step_handle(batch, run, step)
        if run.send is not None and run.send.message_id is None:
            return  # the batch sends, then this run goes on
        if e.state == EnrollmentState.WAITING or (e.step, e.state, e.wake_at) == before:
            return
        run.signal = None  # a signal is for the step that was waiting on it
    if is_open(run) and run.transitions >= MAX_TRANSITIONS:
        end(batch, run, EnrollmentState.EXITED, "loop_limit")


def _save(batch: Batch, runs: list[Run]) -> None:
    from campaigns.journeys.services.persist import enrollments_write, logs_write
    from campaigns.journeys.services.stats import step_stats_add

    changed = [r.enrollment for r in runs if r.changed]
    for e in changed:
        e.updated_at = batch.now
    enrollments_write(changed)
    logs_write(batch.logs)
    step_stats_add(batch.counts, batch.revenue)


def enrollments_end(
    enrollment_ids: list[int], *, state: str, reason: str, now: datetime | None = None
) -> int:
    """End open runs at once (the journey archived, an exit criterion): locked, logged, counted."""
    now = now or timezone.now()
    ended = 0
    for start in range(0, len(enrollment_ids), 1000):
        with transaction.atomic():
            rows = list(
                Enrollment.objects.select_for_update()
                .filter(pk__in=enrollment_ids[start : start + 1000], state__in=OPEN_STATES)
                .order_by("pk")
            )
            batch = Batch(now=now)
            definitions = version_definitions(e.version_id for e in rows)
            runs = [Run(e, definitions[e.version_id], None) for e in rows]
            for run in runs:
                end(batch, run, state, reason)
            _save(batch, runs)
            ended += len(runs)
    return ended
