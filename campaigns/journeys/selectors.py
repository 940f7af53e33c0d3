"""Reads of journeys: lists, step counts, a customer's runs, a run's history."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, QuerySet, Sum

from campaigns.journeys.models import (
    OPEN_STATES,
    Enrollment,
    Journey,
    JourneyVersion,
    StepStat,
)


def journeys_page(*, status: str = "", after_id: int | None = None, limit: int = 50):
    """Newest first, paged by id (a cursor, never a COUNT)."""
    query = Journey.objects.select_related("live_version", "segment").order_by("-id")
    if status:
        query = query.filter(status=status)
    if after_id:
        query = query.filter(id__lt=after_id)
    rows = list(query[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)


def journey_totals(journey_ids: list[int]) -> dict[int, dict]:
    """Per journey: entered, open now, converted and revenue (from the step counts and one
    grouped count of open runs)."""
    totals: dict[int, dict] = defaultdict(
        lambda: {"entered": 0, "open": 0, "converted": 0, "revenue": 0}
    )
    # Entries are also counted under the step "" (the journey as a whole).
    for journey_id, n in (
        StepStat.objects.filter(version__journey_id__in=journey_ids, step="", key="entered")
        .values("version__journey_id")
        .annotate(n=Sum("count"))
        .values_list("version__journey_id", "n")
    ):
        totals[journey_id]["entered"] = n or 0
    for journey_id, revenue, converted in (
        StepStat.objects.filter(version__journey_id__in=journey_ids, key="converted")
        .values("version__journey_id")
        .annotate(revenue=Sum("revenue"), n=Sum("count"))
        .values_list("version__journey_id", "revenue", "n")
    ):
        totals[journey_id]["revenue"] = revenue or 0
        totals[journey_id]["converted"] = converted or 0
    for journey_id, n in (
        Enrollment.objects.filter(journey_id__in=journey_ids, state__in=OPEN_STATES)
        .values("journey_id")
        .annotate(n=Count("id"))
        .values_list("journey_id", "n")
    ):
        totals[journey_id]["open"] = n
    return {j: totals[j] for j in journey_ids}


def journey_step_counts(version: JourneyVersion) -> dict[str, dict[str, int]]:
    """{step: {"entered": n, "passed:<way>": n, "exited:<reason>": n, "converted": n,
    "revenue": x, "waiting": n (open runs at the step now)}}."""
    counts: dict[str, dict] = defaultdict(dict)
    for step, key, count, revenue in StepStat.objects.filter(version=version).values_list(
        "step", "key", "count", "revenue"
    ):
        counts[step][key] = count
        if key == "converted":
            counts[step]["revenue"] = revenue
    for step, n in (
        Enrollment.objects.filter(version=version, state__in=OPEN_STATES)
        .values("step")
        .annotate(n=Count("id"))
        .values_list("step", "n")
    ):
        counts[step]["waiting"] = n
    return dict(counts)


def journey_open_runs_by_step(journey: Journey) -> dict[int, dict[str, int]]:
    """{version id: {step: open runs}} for the mapping form when publishing."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for version_id, step, n in (
        Enrollment.objects.filter(journey=journey, state__in=OPEN_STATES)
        .values("version_id", "step")
        .annotate(n=Count("id"))
        .values_list("version_id", "step", "n")
    ):
        found[version_id][step] = n
    return dict(found)


def customer_enrollments(customer_id: int, limit: int = 50) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(customer_id=customer_id)
        .select_related("journey", "version")
        .order_by("-entered_at", "-id")[:limit]
    )
