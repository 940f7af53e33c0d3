"""Reads for CJMs and strategies: the board (stages, cells, counts, conversions), the links'
targets, and a strategy's per-stage funnel."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)
from django.urls import NoReverseMatch, reverse

from campaigns.broadcasts.models import Broadcast
from campaigns.message_templates.models import MessageTemplateUse, Template
from campaigns.planning.models import (
    CjmCell,
    CjmStage,
    CommunicationStrategy,
    ContentKind,
    CustomerJourneyMap,
    LinkKind,
    StrategyContent,
)
from campaigns.planning.services import journey_model
from channels.models import Message, MessageSource
from customers.models import Order, SegmentMembership

# A message converts when its customer completes an order within this many days of it.
CONVERSION_DAYS = 7


def cjm_list() -> QuerySet[CustomerJourneyMap]:
    return CustomerJourneyMap.objects.annotate(stage_count=Count("stages")).order_by(
        "-updated_at", "-id"
    )


def cjm_stages(cjm: CustomerJourneyMap) -> list[CjmStage]:
    return list(cjm.stages.select_related("segment"))


def stage_conversions(stages: list[CjmStage]) -> dict[int, float | None]:
    """For each stage k after the first: the share of stage k-1's members who are in stage k
    now, both by their segments' current membership. One grouped query counts the customers of
    every (segment, segment) pair; stages without a segment (or whose neighbour has none) get
    None, and so does a previous stage with no members."""
    pairs = [
        (prev.segment_id, stage.segment_id, stage.pk)
        for prev, stage in itertools.pairwise(stages)
        if prev.segment_id and stage.segment_id
    ]
    result: dict[int, float | None] = {stage.pk: None for stage in stages}
    if not pairs:
        return result
    both = (
        SegmentMembership.objects.filter(
            segment_id__in={a for a, _b, _s in pairs},
            customer__segment_memberships__segment_id__in={b for _a, b, _s in pairs},
        )
        .values_list("segment_id", "customer__segment_memberships__segment_id")
        .annotate(n=Count("customer_id"))
    )
    counts = {(a, b): n for a, b, n in both}
    members = {s.segment_id: s.segment.member_count for s in stages if s.segment_id}
    for prev_segment, segment, stage_id in pairs:
        if members.get(prev_segment):
            shared = counts.get((prev_segment, segment), 0)
            result[stage_id] = shared / members[prev_segment]
    return result


@dataclass(frozen=True)
class Target:
    kind: str
    object_id: int
    name: str
    url: str
    missing: bool = False

    @property
    def kind_label(self) -> str:
        labels = {**dict(LinkKind.choices), **dict(ContentKind.choices)}
        return str(labels.get(self.kind, self.kind))


def _url(name: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def link_targets(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], Target]:
    """The names (and pages) of what links and content point at: one query per kind."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, object_id in pairs:
        by_kind[LinkKind.JOURNEY if kind == ContentKind.JOURNEY_STEP else kind].add(object_id)
    names: dict[tuple[str, int], tuple[str, str]] = {}
    for pk, name in Template.objects.filter(pk__in=by_kind[LinkKind.TEMPLATE]).values_list(
        "pk", "name"
    ):
        names[(LinkKind.TEMPLATE, pk)] = (name, _url("campaigns:template_edit", template_id=pk))
    for pk, name in Broadcast.objects.filter(pk__in=by_kind[LinkKind.BROADCAST]).values_list(
        "pk", "name"
    ):
        names[(LinkKind.BROADCAST, pk)] = (name, _url("campaigns:broadcast", broadcast_id=pk))
    journey = journey_model()
    if journey is not None and by_kind[LinkKind.JOURNEY]:
        for pk, name in journey.objects.filter(pk__in=by_kind[LinkKind.JOURNEY]).values_list(
            "pk", "name"
        ):
            names[(LinkKind.JOURNEY, pk)] = (name, _url("campaigns:journey", journey_id=pk))
    targets = {}
    for kind, object_id in pairs:
        found = names.get(
            (LinkKind.JOURNEY if kind == ContentKind.JOURNEY_STEP else kind, object_id)
        )
        if found is None:
            targets[(kind, object_id)] = Target(kind, object_id, f"#{object_id}", "", missing=True)
        else:
            targets[(kind, object_id)] = Target(kind, object_id, found[0], found[1])
    return targets


def cjm_board(cjm: CustomerJourneyMap) -> dict[str, Any]:
    """Everything the board shows, in four queries: stages, cells with their links, target
    names, and the conversions."""
    stages = cjm_stages(cjm)
    cells: dict[tuple[int, str], Any] = {}
    channels = list(cjm.channels)
    cell_rows = CjmCell.objects.filter(stage__cjm=cjm).prefetch_related("links")
    pairs: set[tuple[str, int]] = set()
    for cell in cell_rows:
        cells[(cell.stage_id, cell.channel)] = cell
        if cell.channel not in channels:
            channels.append(cell.channel)
        pairs |= {(link.kind, link.object_id) for link in cell.links.all()}
    return {
        "stages": stages,
        "channels": channels,
        "cells": cells,
        "targets": link_targets(pairs),
        "conversions": stage_conversions(stages),
    }


# --- Strategies -----------------------------------------------------------------------------------
def strategy_list() -> QuerySet[CommunicationStrategy]:
    return (
        CommunicationStrategy.objects.annotate(content_count=Count("content", distinct=True))
        .prefetch_related("segments")
        .order_by("-updated_at", "-id")
    )


def strategy_content(strategy: CommunicationStrategy) -> list[StrategyContent]:
    return list(strategy.content.all())


def content_messages_q(items: list[StrategyContent]) -> Q:
    """The messages a piece of content sent, as one filter on channels.Message:
    - a template: rendered from any of its versions (MessageTemplateUse);
    - a broadcast: source_ref "broadcast:<id>:<variant>";
    - a journey step: source "journey", source_ref "journey:<journey>:<enrollment>:<step>"."""
    q = Q(pk__in=[])
    templates = {c.object_id for c in items if c.kind == ContentKind.TEMPLATE}
    if templates:
        uses = MessageTemplateUse.objects.filter(version__template_id__in=templates)
        q |= Q(pk__in=uses.values("message_id"))
    for c in items:
        if c.kind == ContentKind.BROADCAST:
            q |= Q(source_ref__startswith=f"broadcast:{c.object_id}:")
        elif c.kind == ContentKind.JOURNEY_STEP:
            q |= Q(
                source=MessageSource.JOURNEY,
                source_ref__startswith=f"journey:{c.object_id}:",
                source_ref__endswith=f":{c.step_id}",
            )
    return q


def strategy_funnel(
    strategy: CommunicationStrategy, *, days: int = CONVERSION_DAYS
) -> list[dict[str, Any]]:
    """Per stage of the scheme, from the messages its tagged content sent:
    - reach: customers who were sent at least one (sent_at set);
    - engaged: of them, customers who opened or clicked one;
    - converted: customers with a completed order placed within `days` after one was sent.
    One aggregate query over the messages, each stage a filtered distinct count; a customer
    reached by two stages counts in both."""
    content = strategy_content(strategy)
    stages = strategy.stages()
    by_stage = {key: [c for c in content if c.stage == key] for key, _label in stages}
    rows = [
        {"stage": key, "label": label, "content": len(by_stage[key]),
         "reach": 0, "engaged": 0, "converted": 0}
        for key, label in stages
    ]  # fmt: skip
    filters = {key: content_messages_q(items) for key, items in by_stage.items() if items}
    if not filters:
        return _rates(rows)
    window_end = ExpressionWrapper(
        OuterRef("sent_at") + timedelta(days=days), output_field=DateTimeField()
    )
    converted = Exists(
        Order.objects.filter(
            customer_id=OuterRef("customer_id"),
            status=Order.Status.COMPLETED,
            placed_at__gte=OuterRef("sent_at"),
            placed_at__lt=window_end,
        )
    )
    any_stage = Q(pk__in=[])
    for q in filters.values():
        any_stage |= q
    aggregates = {}
    for i, (_key, q) in enumerate(filters.items()):
        aggregates[f"r{i}"] = Count("customer_id", distinct=True, filter=q)
        aggregates[f"e{i}"] = Count(
            "customer_id",
            distinct=True,
            filter=q & (Q(opened_at__isnull=False) | Q(clicked_at__isnull=False)),
        )
        aggregates[f"c{i}"] = Count("customer_id", distinct=True, filter=q & Q(converted=True))
    totals = (
        Message.objects.filter(any_stage, sent_at__isnull=False)
        .annotate(converted=converted)
        .aggregate(**aggregates)
    )
    index = {key: i for i, key in enumerate(filters)}
    for row in rows:
        i = index.get(row["stage"])
        if i is not None:
            row["reach"], row["engaged"], row["converted"] = (
                totals[f"r{i}"], totals[f"e{i}"], totals[f"c{i}"]
            )  # fmt: skip
    return _rates(rows)


def _rates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        reach = row["reach"]
        row["engagement_rate"] = row["engaged"] / reach if reach else None
        row["conversion_rate"] = row["converted"] / reach if reach else None
    return rows
