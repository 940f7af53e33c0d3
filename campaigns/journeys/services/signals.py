"""From what happened outside (a message status, a reply, events, orders, an opt-out, a segment
change) to Signals for the runs it concerns, and to new runs for the journeys it triggers.

Each function is the body of one Celery task (tasks.py), called after the change committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.journeys.models import OPEN_STATES, Enrollment, Journey, JourneyStatus
from campaigns.journeys.services.engine import Signal, version_definition
from campaigns.journeys.services.outcomes import properties_match, signals_dispatch
from campaigns.journeys.services.triggers import journey_enrol, journey_enrol_many


def enrollment_of_message(source_ref: str) -> int | None:
    """The enrollment id in a journey message's source_ref ("journey:<j>:<enrollment>:<step>")."""
    parts = source_ref.split(":")
    if len(parts) >= 3 and parts[0] == "journey" and parts[2].isdigit():
        return int(parts[2])
    return None


def journey_message_signal(*, message_id: int, status: str) -> int:
    from channels.models import Message

    row = (
        Message.objects.filter(pk=message_id).values("customer_id", "source_ref", "channel").first()
    )
    if row is None:
        return 0
    enrollment_id = enrollment_of_message(row["source_ref"])
    if enrollment_id is None:
        return 0
    signal = Signal(
        kind="message",
        at=timezone.now(),
        message_id=message_id,
        status=status,
        channel=row["channel"],
    )
    return signals_dispatch([(row["customer_id"], signal)], enrollment_ids=[enrollment_id])


def journey_reply_signal(*, customer_id: int, channel: str) -> int:
    return signals_dispatch(
        [(customer_id, Signal(kind="reply", at=timezone.now(), channel=channel))]
    )


def journey_opt_out_signal(*, customer_ids: list[int]) -> int:
    now = timezone.now()
    return signals_dispatch([(c, Signal(kind="opted_out", at=now)) for c in customer_ids])


def _live_journeys() -> list[Journey]:
    return list(Journey.objects.filter(status=JourneyStatus.LIVE, live_version__isnull=False))


def journey_events_signal(*, event_ids: list[int]) -> int:
    """Events: first the customers' open runs (outcomes, goals), then the journeys they start
    (so a run never takes its own entry event as an outcome)."""
    from customers.models import Event

    events = list(
        Event.objects.filter(pk__in=event_ids)
        .order_by("occurred_at", "pk")
        .values("pk", "customer_id", "name", "properties", "occurred_at", "event_id")
    )
    if not events:
        return 0
    moved = 0
    customers = {e["customer_id"] for e in events}
    if Enrollment.objects.filter(customer_id__in=customers, state__in=OPEN_STATES).exists():
        moved += signals_dispatch(
            [
                (
                    e["customer_id"],
                    Signal(
                        kind="event",
                        at=e["occurred_at"],
                        name=e["name"],
                        properties=e["properties"] or {},
                    ),
                )
                for e in events
            ]
        )
    for journey in _live_journeys():
        trigger = version_definition(journey.live_version_id).trigger
        if trigger.kind != "event":
            continue
        for event in events:
            properties = event["properties"] or {}
            if event["name"] == trigger.event and properties_match(properties, trigger.filters, {}):
                result = journey_enrol(
                    journey=journey,
                    customer_id=event["customer_id"],
                    properties={**properties, "event_id": event["event_id"]},
                )
                moved += result.enrollment is not None
    return moved


def journey_orders_signal(*, order_ids: list[int]) -> int:
    from customers.models import Order

    orders = (
        Order.objects.filter(pk__in=order_ids, status=Order.Status.COMPLETED)
        .order_by("placed_at", "pk")
        .values("pk", "customer_id", "external_id", "total", "currency", "promo_code", "placed_at")
    )
    signals = [
        (
            o["customer_id"],
            Signal(
                kind="order",
                at=o["placed_at"],
                order_id=o["pk"],
                total=o["total"],
                promo_code=o["promo_code"],
                properties={
                    "order_id": o["external_id"],
                    "promo_code": o["promo_code"],
                    "total": o["total"],
                    "currency": o["currency"],
                },
            ),
        )
        for o in orders
    ]
    return signals_dispatch(signals)


def journey_segment_signal(*, segment_id: int, at: str) -> int:
    """Customers entered or left a segment at `at`: start the runs of journeys triggered by it,
    exit runs whose exit criterion is leaving it, resume runs waiting to enter it."""
    from customers.models import Event

    moment: datetime = parse_datetime(at)
    moved = 0
    for name, kind in (("segment_entered", "segment_entered"), ("segment_left", "segment_left")):
        # The refresh's events: their ids carry its time stamp (customers.services.segments);
        # the time range lets the (name, occurred_at) index find them.
        stamp = moment.strftime("%Y%m%dT%H%M%S%f")
        changed = Event.objects.filter(
            name=name,
            occurred_at__gte=moment - timedelta(seconds=1),
            occurred_at__lte=moment + timedelta(seconds=1),
            event_id__startswith=f"segment:{segment_id}:{name}:{stamp}:",
        ).values("customer_id")
        # Runs already open first, then the new ones (which must not take their own entry as
        # an outcome).
        customers = list(
            Enrollment.objects.filter(state__in=OPEN_STATES, customer_id__in=changed)
            .values_list("customer_id", flat=True)
            .distinct()
        )
        if customers:
            moved += signals_dispatch(
                [(c, Signal(kind=kind, at=moment, segment_id=segment_id)) for c in customers]
            )
        for journey in _live_journeys():
            trigger = version_definition(journey.live_version_id).trigger
            if trigger.kind == kind and trigger.segment_id == segment_id:
                sql, params = changed.query.sql_with_params()
                moved += journey_enrol_many(
                    journey=journey,
                    customers_sql=f"SELECT customer_id AS id FROM ({sql}) changed",
                    params=list(params),
                    entry={"segment_id": segment_id},
                )
    return moved
