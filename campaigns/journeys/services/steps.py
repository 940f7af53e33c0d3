"""What each kind of step does when a run reaches it, or when its wait ends or an outcome arrives."""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import datetime, time, timedelta

from campaigns.journeys.models import EnrollmentState
from campaigns.journeys.services.actions import action_run
from campaigns.journeys.services.cascade import cascade_handle
from campaigns.journeys.services.engine import Batch, Run, SendRequest, end, move, wait
from campaigns.journeys.services.outcomes import (
    condition_holds,
    outcome_matches,
    outcome_satisfied,
)


def step_handle(batch: Batch, run: Run, step) -> None:
    handler = {
        "send": _send,
        "survey": _send,
        "wait": _wait,
        "branch": _branch,
        "split": _split,
        "action": _action,
        "cascade": cascade_handle,
        "exit": _exit,
    }[step.type]
    handler(batch, run, step)


def send_key(run: Run, step_id: str, suffix: str = "") -> str:
    """The idempotency key of a run's send: enrollment, step and attempt (the step's visit)."""
    visits = run.context.get("visits", {}).get(step_id, 1)
    return f"journey:{run.enrollment.pk}:{step_id}:{visits}{suffix}"


def _send(batch: Batch, run: Run, step) -> None:
    """A send step, or a survey step (the same ways out; analytics sends the survey)."""
    request = run.send
    if request is None or request.step_id != step.id:
        survey = step.type == "survey"
        run.send = SendRequest(
            step_id=step.id,
            key=send_key(run, step.id),
            channel=step.channel,
            template_id=0 if survey else step.template_id,
            template_version_id=None if survey else step.template_version_id,
            survey_id=step.survey_id if survey else None,
        )
        return
    if request.message_id is None and request.delayed_until is None:
        return  # the batch has not stored it yet
    run.send = None
    if request.delayed_until is not None:  # a journey limit: try again then
        wait(batch, run, request.delayed_until, "limit")
        return
    context = run.context
    context.setdefault("messages", {})[step.id] = request.message_id
    context.setdefault("channels", {})[step.id] = request.sent_channel
    context["last_message"] = request.message_id
    context["last_channel"] = request.sent_channel
    if request.status == "suppressed":
        batch.log(run, "unreachable", f"{request.sent_channel}: {request.reason}")
        target = step.on_unreachable
        if target == "exit":
            end(batch, run, EnrollmentState.EXITED, "unreachable")
        elif target in (None, "continue"):
            move(batch, run, "unreachable", step.next)
        else:
            move(batch, run, "unreachable", target)
        return
    what = f"survey {request.survey_id} · " if request.survey_id else ""
    batch.log(run, "sent", f"{what}{request.sent_channel} #{request.message_id}")
    move(batch, run, "next", step.next)


def _zone(customer) -> zoneinfo.ZoneInfo:
    from channels.services.policy import delivery_settings

    for name in (getattr(customer, "timezone", ""), delivery_settings().default_timezone, "UTC"):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def local_time_after(since: datetime, at: str, weekdays: list[int], zone) -> datetime:
    """The first moment after `since` that is `at` o'clock in `zone`, on one of `weekdays`."""
    hour, minute = (int(part) for part in at.split(":"))
    local = since.astimezone(zone)
    for days in range(0, 8):
        day = (local + timedelta(days=days)).date()
        if weekdays and day.weekday() not in weekdays:
            continue
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if candidate > local:
            return candidate.astimezone(since.tzinfo)
    return since + timedelta(days=7)


def _wait(batch: Batch, run: Run, step) -> None:
    e = run.enrollment
    if step.mode == "duration":
        until = e.step_entered_at + timedelta(seconds=step.seconds)
        if batch.now >= until:
            move(batch, run, "next", step.next)
        else:
            wait(batch, run, until)
        return
    if step.mode == "until_time":
        until = local_time_after(e.step_entered_at, step.time, step.weekdays, _zone(run.customer))
        if batch.now >= until:
            move(batch, run, "next", step.next)
        else:
            wait(batch, run, until)
        return
    # Until an outcome: the one that arrived, else one already true, else the timeout.
    if run.signal is not None:
        for outcome in step.outcomes:
            if outcome_matches(outcome, run.signal, run):
                batch.log(run, f"outcome:{outcome.name}")
                move(batch, run, outcome.name, outcome.next)
                return
    timeout_at = (
        e.step_entered_at + timedelta(seconds=step.timeout_seconds)
        if step.timeout_seconds
        else None
    )
    first_look = e.state == EnrollmentState.ACTIVE
    timed_out = timeout_at is not None and batch.now >= timeout_at
    if first_look or timed_out:
        for outcome in step.outcomes:
            if outcome_satisfied(outcome, run):
                batch.log(run, f"outcome:{outcome.name}", "already")
                move(batch, run, outcome.name, outcome.next)
                return
    if timed_out:
        batch.log(run, "timeout")
        move(batch, run, "timeout", step.timeout_next)
        return
    if run.signal is None or first_look:
        wait(batch, run, timeout_at)


def _branch(batch: Batch, run: Run, step) -> None:
    for case in step.cases:
        if condition_holds(case.condition, run, batch.now):
            move(batch, run, case.name, case.next)
            return
    move(batch, run, "default", step.default_next)


def split_bucket(journey_id: int, step_id: str, customer_id: int) -> float:
    """0 ≤ bucket < 100, the same for a customer at a step every time."""
    digest = hashlib.blake2b(f"{journey_id}:{step_id}:{customer_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % 1_000_000 / 10_000


def _split(batch: Batch, run: Run, step) -> None:
    e = run.enrollment
    if run.context.get("holdout") == step.id:
        # A held-out run waited out the goal window (a conversion would have ended it first).
        end(batch, run, EnrollmentState.EXITED, "holdout")
        return
    bucket = split_bucket(e.journey_id, step.id, e.customer_id)
    if bucket < step.holdout_percent:
        # Held out: kept open (and so counted if it converts) until the goal window closes.
        run.context["holdout"] = step.id
        batch.count(run, step.id, "passed:holdout")
        batch.log(run, "holdout")
        goal = run.definition.goal
        window = goal.window_seconds if goal else 7 * 86400
        wait(batch, run, e.entered_at + timedelta(seconds=window))
        return
    edge = step.holdout_percent
    for arm in step.arms:
        edge += arm.percent
        if bucket < edge or arm is step.arms[-1]:
            run.context.setdefault("arms", {})[step.id] = arm.name
            batch.log(run, f"arm:{arm.name}")
            move(batch, run, arm.name, arm.next)
            return


def _action(batch: Batch, run: Run, step) -> None:
    result, detail = action_run(batch, run, step)
    batch.log(run, f"action:{result}", f"{step.action} {detail}".strip())
    move(batch, run, "next", step.next, result=result)


def _exit(batch: Batch, run: Run, step) -> None:
    end(batch, run, EnrollmentState.EXITED, "exit_step")
