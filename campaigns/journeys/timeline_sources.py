"""What journeys add to the customer timeline: entered journey X, step Y, outcome Z.

Only the moments an agent cares about (entering, an outcome or branch taken, converting, exiting,
completing); the messages a journey sends are on the timeline as messages already.
"""

from django.db.models import OuterRef, Subquery

from campaigns.journeys.models import EnrollmentLog, Journey
from customers.timeline import TimelineEntry, TimelineSource, register_timeline_source

SHOWN = (
    "entered",
    "outcome:",
    "timeout",
    "converted",
    "exited:",
    "completed",
    "migrated",
    "holdout",
)


def _rows(customer_id: int):
    from django.db.models import Q

    shown = Q()
    for prefix in SHOWN:
        shown |= Q(outcome__startswith=prefix)
    return (
        EnrollmentLog.objects.filter(customer_id=customer_id)
        .filter(shown)
        .annotate(
            journey_name=Subquery(
                Journey.objects.filter(pk=OuterRef("journey_id")).values("name")[:1]
            )
        )
    )


def _entry(log: EnrollmentLog) -> TimelineEntry:
    name = getattr(log, "journey_name", "") or f"#{log.journey_id}"
    return TimelineEntry(
        occurred_at=log.at,
        kind="journey",
        id=log.pk,
        title=f"{name}: {log.step} {log.outcome}",
        data={
            "journey_id": log.journey_id,
            "journey": name,
            "enrollment_id": log.enrollment_id,
            "step": log.step,
            "outcome": log.outcome,
            "detail": log.detail,
        },
    )


def register() -> None:
    register_timeline_source(
        TimelineSource(kind="journey", rows_for_customer=_rows, time_field="at", to_entry=_entry)
    )
