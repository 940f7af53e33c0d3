"""Outcomes, conditions, goals and exits: does what happened (or what is true now) move a run?

`signals_dispatch` is how the outside world reaches the engine: a message's status, a reply, an
event, an order, a segment change or an opt-out becomes a Signal for each of the customer's open
runs, which are locked and advanced at once (goals and exits even in the middle of a wait).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.journeys.models import OPEN_STATES, Enrollment, EnrollmentState, JourneyStatus
from channels.models import STATUS_RANK  # clicked outranks opened outranks delivered

# --- Matching ------------------------------------------------------------------------------------
SURVEY_ANSWERED = "survey_answered"  # the event analytics records for each answer


def _survey_match(outcome) -> dict:
    """A survey outcome is an event outcome on `survey_answered` with the survey's id (and any
    further `match`, e.g. a score)."""
    return {**outcome.match, "survey_id": outcome.survey_id}


def resolve(value: Any, context: dict) -> Any:
    """A match value: "entry.<key>" and "context.<key>" come from the run, anything else is literal."""
    if isinstance(value, str):
        if value.startswith("entry."):
            return (context.get("entry") or {}).get(value[6:])
        if value.startswith("context."):
            return context.get(value[8:])
    return value


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return any(_same(actual, w) for w in wanted)
    if actual is None or wanted is None:
        return False
    return str(actual).strip().casefold() == str(wanted).strip().casefold()


def properties_match(properties: dict, match: dict, context: dict) -> bool:
    return all(_same(properties.get(key), resolve(value, context)) for key, value in match.items())


def _watched_message(outcome, run) -> tuple[int | None, str]:
    context = run.context
    if outcome.step:
        return (context.get("messages") or {}).get(outcome.step), (
            context.get("channels") or {}
        ).get(outcome.step, "")
    return context.get("last_message"), context.get("last_channel", "")


def outcome_matches(outcome, signal, run) -> bool:
    """Does the signal that just arrived satisfy this outcome of the run's wait?"""
    if outcome.kind == "message":
        message_id, channel = _watched_message(outcome, run)
        if outcome.status == "replied":
            return signal.kind == "reply" and bool(channel) and signal.channel == channel
        return (
            signal.kind == "message"
            and message_id is not None
            and signal.message_id == message_id
            and STATUS_RANK.get(signal.status, -1) >= STATUS_RANK[outcome.status]
        )
    if outcome.kind == "event":
        return (
            signal.kind == "event"
            and signal.name == outcome.event
            and properties_match(signal.properties, outcome.match, run.context)
        )
    if outcome.kind == "survey":
        return (
            signal.kind == "event"
            and signal.name == SURVEY_ANSWERED
            and properties_match(signal.properties, _survey_match(outcome), run.context)
        )
    if outcome.kind == "order":
        return signal.kind == "order" and properties_match(
            signal.properties, outcome.match, run.context
        )
    if outcome.kind == "segment":
        return signal.kind == "segment_entered" and signal.segment_id == outcome.segment_id
    return False


def message_reached(message_id: int | None, status: str) -> bool:
    """Has the message reached `status` (delivered, opened, clicked; replied: an inbound on its
    channel after it was queued)?"""
    from channels.models import InboundMessage, Message

    if message_id is None:
        return False
    message = (
        Message.objects.filter(pk=message_id)
        .only("customer_id", "channel", "queued_at", "delivered_at", "opened_at", "clicked_at")
        .first()
    )
    if message is None:
        return False
    if status == "replied":
        return InboundMessage.objects.filter(
            customer_id=message.customer_id,
            channel=message.channel,
            received_at__gte=message.queued_at,
        ).exists()
    fields = {
        "delivered": ("delivered_at", "opened_at", "clicked_at"),
        "opened": ("opened_at", "clicked_at"),
        "clicked": ("clicked_at",),
    }[status]
    return any(getattr(message, f) is not None for f in fields)


def outcome_satisfied(outcome, run) -> bool:
    """Is the outcome already true (checked when the wait starts and when it times out)?"""
    from customers.models import Event, Order, SegmentMembership

    e = run.enrollment
    if outcome.kind == "message":
        message_id, _channel = _watched_message(outcome, run)
        return message_reached(message_id, outcome.status)
    # What happened since the run entered counts (the order placed before this wait began);
    # on a later pass through a loop, only what happened since this pass began.
    since = e.entered_at if run.context.get("visits", {}).get(e.step, 1) <= 1 else e.step_entered_at
    if outcome.kind in ("event", "survey"):
        name, match = (
            (SURVEY_ANSWERED, _survey_match(outcome))
            if outcome.kind == "survey"
            else (outcome.event, outcome.match)
        )
        rows = Event.objects.filter(
            customer_id=e.customer_id, name=name, occurred_at__gte=since
        ).values_list("properties", flat=True)[:200]
        return any(properties_match(p or {}, match, run.context) for p in rows)
    if outcome.kind == "order":
        orders = Order.objects.filter(
            customer_id=e.customer_id,
            status=Order.Status.COMPLETED,
            placed_at__gte=since,
        ).values("external_id", "promo_code", "total", "currency")[:200]
        return any(
            properties_match(_order_properties(o), outcome.match, run.context) for o in orders
        )
    if outcome.kind == "segment":
        return SegmentMembership.objects.filter(
            segment_id=outcome.segment_id, customer_id=e.customer_id
        ).exists()
    return False


def _order_properties(order: dict) -> dict:
    return {
        "order_id": order["external_id"],
        "promo_code": order["promo_code"],
        "total": order["total"],
        "currency": order["currency"],
    }


# --- Branch conditions ---------------------------------------------------------------------------
_OPS = {
    "eq": lambda a, b: _same(a, b),
    "ne": lambda a, b: not _same(a, b),
    "in": lambda a, b: _same(a, b if isinstance(b, list) else [b]),
    "exists": lambda a, b: a not in (None, ""),
}


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if op in _OPS:
        return _OPS[op](actual, wanted)
    try:
        a, b = float(actual), float(wanted)
    except (TypeError, ValueError):
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def condition_holds(condition, run, now: datetime) -> bool:
    if condition.kind == "entry":
        value = (run.context.get("entry") or {}).get(condition.property)
        return _compare(condition.op, value, condition.value)
    if condition.kind == "result":
        result = (run.context.get("results") or {}).get(condition.step)
        return _compare(condition.op, result, condition.value)
    from customers.models import Customer
    from customers.segments.rules.compiler import rule_to_q

    return (
        Customer.objects.filter(pk=run.enrollment.customer_id, erased_at__isnull=True)
        .filter(rule_to_q(condition.rule, now=now))
        .exists()
    )


# --- Goals and exits -----------------------------------------------------------------------------
def goal_reached(run, signal) -> bool:
    goal = run.definition.goal
    if goal is None or signal.at < run.enrollment.entered_at:
        return False
    if signal.at > run.enrollment.entered_at + timedelta(seconds=goal.window_seconds):
        return False
    if goal.kind == "order":
        return signal.kind == "order"
    return signal.kind == "event" and signal.name == goal.event


def goals_from_data(batch, runs: list) -> None:
    """Runs moved by their timer convert if their goal happened meanwhile: the order's or
    event's signal may have been lost with the broker, or not handled yet. Two queries a batch."""
    from campaigns.journeys.services.engine import end
    from customers.models import Event, Order

    with_goal = [r for r in runs if r.definition.goal is not None]
    if not with_goal:
        return
    ids = {r.enrollment.customer_id for r in with_goal}
    since = min(r.enrollment.entered_at for r in with_goal)
    found: dict[int, list] = defaultdict(list)  # customer → [(kind, name, at, revenue)]
    if any(r.definition.goal.kind == "order" for r in with_goal):
        for customer_id, at, total in Order.objects.filter(
            customer_id__in=ids,
            status=Order.Status.COMPLETED,
            placed_at__gte=since,
            placed_at__lte=batch.now,
        ).values_list("customer_id", "placed_at", "total"):
            found[customer_id].append(("order", "", at, total))
    names = {r.definition.goal.event for r in with_goal if r.definition.goal.kind == "event"}
    if names:
        for customer_id, name, at in Event.objects.filter(
            customer_id__in=ids,
            name__in=names,
            occurred_at__gte=since,
            occurred_at__lte=batch.now,
        ).values_list("customer_id", "name", "occurred_at"):
            found[customer_id].append(("event", name, at, None))
    for run in with_goal:
        goal, e = run.definition.goal, run.enrollment
        window_end = e.entered_at + timedelta(seconds=goal.window_seconds)
        for kind, name, at, revenue in sorted(found[e.customer_id], key=lambda f: f[2]):
            same_goal = kind == goal.kind and (kind == "order" or name == goal.event)
            if same_goal and e.entered_at <= at <= window_end:
                end(batch, run, EnrollmentState.CONVERTED, "goal", revenue=revenue)
                break


def exit_reason(run, signal) -> str:
    exits = run.definition.exits
    if signal.kind == "opted_out" and exits.opted_out:
        return "opted_out"
    if (
        signal.kind == "segment_left"
        and exits.left_segment_id is not None
        and signal.segment_id == exits.left_segment_id
    ):
        return "left_segment"
    return ""


# --- Dispatch ------------------------------------------------------------------------------------
def signals_dispatch(
    signals: list[tuple[int, Any]], *, enrollment_ids: list[int] | None = None
) -> int:
    """Hand each (customer id, Signal) to that customer's open runs (or only to `enrollment_ids`).
    Runs of paused journeys take goals and exits only. Returns how many runs moved."""
    from campaigns.journeys.services.engine import enrollments_advance

    if not signals:
        return 0
    by_customer: dict[int, list] = defaultdict(list)
    for customer_id, signal in signals:
        by_customer[customer_id].append(signal)
    query = Enrollment.objects.filter(
        customer_id__in=list(by_customer), state__in=OPEN_STATES
    ).exclude(journey__status=JourneyStatus.ARCHIVED)
    if enrollment_ids is not None:
        query = query.filter(pk__in=enrollment_ids)
    candidates = list(query.values_list("pk", "customer_id"))
    if not candidates:
        return 0
    moved = 0
    # Round k hands every run its customer's k-th signal, so one run gets one signal at a time.
    rounds = max(len(by_customer[c]) for _pk, c in candidates)
    for k in range(rounds):
        wanted = {pk: by_customer[c][k] for pk, c in candidates if k < len(by_customer[c])}
        with transaction.atomic():
            # Only the runs' rows are locked (of=self): a journey's row must not serialise its
            # runs' outcomes. enrollments_advance reads each journey's status itself.
            rows = list(
                Enrollment.objects.select_for_update(of=("self",))
                .filter(pk__in=list(wanted), state__in=OPEN_STATES)
                .order_by("pk")
            )
            moved += enrollments_advance(
                rows, now=timezone.now(), signals={r.pk: wanted[r.pk] for r in rows}
            )
    return moved
