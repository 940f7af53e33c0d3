"""The trigger map's reads and writes: a row per segment with the journeys that serve it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from api.audit import audit_record
from campaigns.journeys.models import Journey, JourneyStatus
from campaigns.journeys.selectors import journey_totals
from campaigns.journeys.trigger_map import BASE_SEGMENT_NAMES, TriggerMapSegment

SEGMENT_TRIGGERS = ("segment_entered", "segment_left", "schedule")


def _served_segments(journey: Journey) -> set[int]:
    """The segment the journey serves, and the one its trigger (draft or live) names."""
    found = {journey.segment_id} if journey.segment_id else set()
    definitions = [journey.draft or {}]
    if journey.live_version_id:
        definitions.append(journey.live_version.definition or {})
    for definition in definitions:
        trigger = definition.get("trigger") or {}
        if trigger.get("kind") in SEGMENT_TRIGGERS and trigger.get("segment_id"):
            found.add(trigger["segment_id"])
    return found


def trigger_map_rows() -> list[dict]:
    """Base segments first (new, active, at risk, lost), then pinned ones, then any other
    segment a journey serves; each with its member count and its journeys' live figures."""
    from customers.models import Segment

    journeys = list(
        Journey.objects.exclude(status=JourneyStatus.ARCHIVED)
        .select_related("live_version")
        .order_by("name", "id")
    )
    by_segment: dict[int, list[Journey]] = {}
    for journey in journeys:
        for segment_id in _served_segments(journey):
            by_segment.setdefault(segment_id, []).append(journey)
    pinned = list(TriggerMapSegment.objects.values_list("segment_id", flat=True))
    segments = Segment.objects.in_bulk(
        set(by_segment)
        | set(pinned)
        | set(Segment.objects.filter(name__in=BASE_SEGMENT_NAMES).values_list("pk", flat=True))
    )
    base = sorted(
        (s for s in segments.values() if s.name in BASE_SEGMENT_NAMES),
        key=lambda s: BASE_SEGMENT_NAMES.index(s.name),
    )
    order = [s.pk for s in base]
    order += [pk for pk in pinned if pk not in order and pk in segments]
    order += sorted(
        (pk for pk in by_segment if pk not in order and pk in segments),
        key=lambda pk: segments[pk].name.casefold(),
    )
    totals = journey_totals([j.pk for j in journeys])
    rows = []
    for segment_id in order:
        served = []
        for journey in by_segment.get(segment_id, []):
            figures = totals[journey.pk]
            entered = figures["entered"]
            definition = journey.live_version.definition if journey.live_version else journey.draft
            goal = bool((definition or {}).get("goal"))
            rate = round(100 * figures["converted"] / entered, 1) if entered and goal else None
            served.append({"journey": journey, "totals": figures, "rate": rate, "goal": goal})
        rows.append(
            {
                "segment": segments[segment_id],
                "journeys": served,
                "live": any(j["journey"].status == JourneyStatus.LIVE for j in served),
                "base": segments[segment_id].name in BASE_SEGMENT_NAMES,
                "pinned": segment_id in pinned,
            }
        )
    return rows


@transaction.atomic
def trigger_map_segment_add(*, segment, actor=None) -> TriggerMapSegment:
    """Pin a segment to the map (again: nothing changes)."""
    found = TriggerMapSegment.objects.filter(segment=segment).first()
    if found is not None:
        return found
    last = TriggerMapSegment.objects.aggregate(n=Max("position"))["n"] or 0
    pin = TriggerMapSegment.objects.create(
        segment=segment,
        position=last + 1,
        added_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(
        actor=actor,
        action="trigger_map.add",
        object_type="segment",
        object_id=segment.pk,
        object_repr=segment.name,
    )
    return pin


@transaction.atomic
def trigger_map_segment_remove(*, segment, actor=None) -> bool:
    """Unpin a segment (its row stays while a journey serves it or it is a base segment)."""
    deleted, _ = TriggerMapSegment.objects.filter(segment=segment).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="trigger_map.remove",
            object_type="segment",
            object_id=segment.pk,
            object_repr=segment.name,
        )
    return bool(deleted)
