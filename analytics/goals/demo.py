"""Demo goals for `make run`: three goals on the demo data, set a little above where they stand."""

import datetime as dt

from django.utils import timezone

from analytics.goals.service import goal_check, goal_create
from analytics.models import Goal


def goals_demo_load() -> int:
    """Idempotent: does nothing once demo goals exist."""
    if Goal.objects.exists():
        return 0
    today = timezone.localdate()
    specs = [
        ("Retention in email: +20 %", "retention", 1.2, "email", 120),
        ("Average order value: +3 %", "aov", 1.03, "", 90),
        ("Repeat purchases: +15 %", "repeat_rate", 1.15, "", 60),
    ]
    made = 0
    for name, metric, lift, channel, days in specs:
        goal = goal_create(
            name=name,
            metric=metric,
            target=1.0,  # replaced below, once the baseline is known
            channel=channel,
            deadline=today + dt.timedelta(days=days),
        )
        if goal.baseline is None:
            goal.delete()
            continue
        goal.target = round(goal.baseline * lift, 1)
        # As if set 30 days ago at a slightly lower baseline: one goal shows a pace.
        goal.starts_on = today - dt.timedelta(days=30)
        goal.baseline = round(goal.baseline * 0.98, 2)
        goal.save(update_fields=["target", "starts_on", "baseline"])
        goal_check(goal)
        made += 1
    return made
