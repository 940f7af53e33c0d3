from analytics.models import Goal, GoalStatus

NOTICE_LIMIT = 5


def goals_off_track() -> list[Goal]:
    """Open goals off track, for the workspace notice (a handful of rows, one query)."""
    goals = Goal.objects.filter(status=GoalStatus.OFF_TRACK, archived_at__isnull=True)
    return list(goals.order_by("off_track_since", "id")[:NOTICE_LIMIT])
