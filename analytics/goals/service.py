"""SMART goals: create with a baseline, check progress, project to the deadline, alert off track.

Progress is the metric over the goal's trailing window today. The projection is linear: the change
from the baseline (at `starts_on`) to today, continued at the same pace to the deadline. A goal is
on track when that projection reaches the target, achieved when today's value already does, and
missed when the deadline passes without it. "Reaches" follows the goal's direction: up when the
target is above the baseline, down when below (a goal to cut something).

When a goal goes off track (from any other state) it is alerted once: a `goal.off_track` CRM webhook
and a notice in the workspace (the analytics and home pages list goals off track).
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from analytics.goals.values import GOAL_METRICS, goal_metric_value
from analytics.models import Goal, GoalStatus
from channels.models import WebhookSubscription
from channels.services.webhooks_out import webhook_event_emit

MAX_WINDOW_DAYS = 366


class GoalError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Progress:
    value: float | None
    projected: float | None
    status: str


def goal_create(
    *,
    name: str,
    metric: str,
    target: float,
    deadline: dt.date,
    segment=None,
    channel: str = "",
    window_days: int = 90,
    strategies=(),
    journeys=(),
    user=None,
    today: dt.date | None = None,
) -> Goal:
    today = today or timezone.localdate()
    goal_validate(metric=metric, deadline=deadline, window_days=window_days, today=today)
    baseline = goal_metric_value(
        metric, end=today, window_days=window_days, segment_id=_id(segment), channel=channel
    )
    with transaction.atomic():
        goal = Goal.objects.create(
            name=name.strip(),
            metric=metric,
            target=target,
            deadline=deadline,
            segment=segment,
            channel=channel,
            window_days=window_days,
            baseline=baseline,
            starts_on=today,
            created_by=user,
        )
        goal.strategies.set(strategies)
        goal.journeys.set(journeys)
        goal_check(goal, today=today)
    return goal


def goal_validate(*, metric: str, deadline: dt.date, window_days: int, today: dt.date) -> None:
    if metric not in GOAL_METRICS:
        raise GoalError("metric", f"Unknown metric; use one of: {', '.join(GOAL_METRICS)}.")
    if deadline <= today:
        raise GoalError("deadline", "The deadline must be after today.")
    if not 7 <= window_days <= MAX_WINDOW_DAYS:
        raise GoalError("window_days", f"The window is 7 to {MAX_WINDOW_DAYS} days.")


def goal_progress(goal: Goal, value: float | None, today: dt.date) -> Progress:
    """Where the goal stands given today's value (pure: no queries)."""
    if value is None:
        return Progress(None, None, GoalStatus.NO_DATA)
    up = goal.baseline is None or goal.target >= goal.baseline

    def reaches(x: float) -> bool:
        return x >= goal.target if up else x <= goal.target

    if reaches(value):
        return Progress(value, value, GoalStatus.ACHIEVED)
    if today >= goal.deadline:
        return Progress(value, value, GoalStatus.MISSED)
    elapsed = (today - goal.starts_on).days
    if goal.baseline is None or elapsed <= 0:
        return Progress(value, None, GoalStatus.ON_TRACK)  # too early to tell a pace
    pace = (value - goal.baseline) / elapsed
    projected = value + pace * (goal.deadline - today).days
    return Progress(
        value, projected, GoalStatus.ON_TRACK if reaches(projected) else GoalStatus.OFF_TRACK
    )


def goal_check(goal: Goal, *, today: dt.date | None = None) -> Goal:
    """Recompute today's value, the projection and the status; alert once on going off track."""
    today = today or timezone.localdate()
    value = goal_metric_value(
        goal.metric,
        end=today,
        window_days=goal.window_days,
        segment_id=goal.segment_id,
        channel=goal.channel,
    )
    progress = goal_progress(goal, value, today)
    went_off = progress.status == GoalStatus.OFF_TRACK and goal.status != GoalStatus.OFF_TRACK
    with transaction.atomic():
        goal.value, goal.projected, goal.status = (
            progress.value,
            progress.projected,
            progress.status,
        )
        goal.checked_at = timezone.now()
        if went_off:
            goal.off_track_since = goal.checked_at
        elif progress.status != GoalStatus.OFF_TRACK:
            goal.off_track_since = None
        goal.save(update_fields=["value", "projected", "status", "checked_at", "off_track_since"])
        if went_off:
            webhook_event_emit(
                event_type=WebhookSubscription.EventType.GOAL_OFF_TRACK, data=goal_event(goal)
            )
    return goal


def goals_check_all(*, today: dt.date | None = None) -> int:
    goals = Goal.objects.filter(archived_at__isnull=True)
    count = 0
    for goal in goals.iterator():
        goal_check(goal, today=today)
        count += 1
    return count


def goal_archive(goal: Goal) -> Goal:
    goal.archived_at = timezone.now()
    goal.save(update_fields=["archived_at"])
    return goal


def goal_event(goal: Goal) -> dict:
    return {
        "goal_id": goal.pk,
        "name": goal.name,
        "metric": goal.metric,
        "segment_id": goal.segment_id,
        "channel": goal.channel,
        "baseline": goal.baseline,
        "target": goal.target,
        "value": goal.value,
        "projected": goal.projected,
        "deadline": goal.deadline.isoformat(),
        "status": goal.status,
    }


def _id(obj):
    return getattr(obj, "pk", obj)
