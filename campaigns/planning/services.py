"""Writes for CJMs and communication strategies. Each is atomic; a bad value raises
django.core.exceptions.ValidationError with a dict naming the field, which forms show beside the
field and the API returns as {"field", "message"}."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from campaigns.broadcasts.models import Broadcast
from campaigns.message_templates.models import Template
from campaigns.planning.models import (
    CELL_FIELDS,
    SCHEME_STAGES,
    CjmCell,
    CjmSolutionLink,
    CjmStage,
    CommunicationStrategy,
    ContentKind,
    CustomerJourneyMap,
    LinkKind,
    Scheme,
    StrategyContent,
)
from customers.models import Segment

# A new map's stages, from the first need to telling others (see the seed on CJM).
DEFAULT_STAGES = [
    pgettext_lazy("journey stage", "Need"),
    pgettext_lazy("journey stage", "Search"),
    pgettext_lazy("journey stage", "Choice"),
    pgettext_lazy("journey stage", "Purchase"),
    pgettext_lazy("journey stage", "Use"),
    pgettext_lazy("journey stage", "Loyalty"),
    pgettext_lazy("journey stage", "Advocacy"),
]
MAX_STAGES = 20
MAX_CHANNELS = 20
CELL_TEXT_FIELDS = [name for name, _label in CELL_FIELDS]
CJM_FIELDS = {"name", "audience", "description", "channels"}
STRATEGY_FIELDS = {"name", "scheme", "audience", "goal", "timing", "tone", "channels", "segments"}


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def journey_model():
    """The journeys package's model, once it is installed (it is built alongside this one)."""
    try:
        return apps.get_model("campaigns", "Journey")
    except LookupError:
        return None


def journey_step_ids(journey_id: int) -> set[str]:
    """The ids of the steps in a journey's draft and in any version it published (a tag stays
    valid for messages an older version sent)."""
    journey = journey_model()
    if journey is None:
        return set()
    definitions = list(journey.objects.filter(pk=journey_id).values_list("draft", flat=True))
    definitions += list(
        apps.get_model("campaigns", "JourneyVersion")
        .objects.filter(journey_id=journey_id)
        .values_list("definition", flat=True)
    )
    ids: set[str] = set()
    for definition in definitions:
        steps = definition.get("steps", []) if isinstance(definition, dict) else []
        ids |= {str(step["id"]) for step in steps if isinstance(step, dict) and "id" in step}
    return ids


def link_target_check(*, kind: str, object_id: int) -> None:
    """A (kind, id) pair must name something that exists; otherwise the error names the field,
    "kind" or "object_id"."""
    model = {
        LinkKind.BROADCAST: Broadcast,
        LinkKind.TEMPLATE: Template,
        LinkKind.JOURNEY: journey_model(),
        ContentKind.JOURNEY_STEP: journey_model(),
    }.get(kind, False)
    if model is False:
        raise _error("kind", _("Unknown kind “%(kind)s”.") % {"kind": kind})
    if model is None:
        raise _error("kind", _("Journeys are not installed yet."))
    if (
        not isinstance(object_id, int)
        or object_id < 1
        or not model.objects.filter(pk=object_id).exists()
    ):
        raise _error(
            "object_id", _("No %(kind)s with id %(id)s.") % {"kind": kind, "id": object_id}
        )


def _channels_clean(channels: Iterable[str], field_name: str = "channels") -> list[str]:
    cleaned: list[str] = []
    for channel in channels:
        channel = str(channel).strip()
        if not channel:
            continue
        if len(channel) > 40:
            raise _error(field_name, _("A channel name is at most 40 characters."))
        if "/" in channel:  # it is part of a cell's address
            raise _error(field_name, _("A channel name cannot contain “/”."))
        if channel not in cleaned:
            cleaned.append(channel)
    if len(cleaned) > MAX_CHANNELS:
        raise _error(field_name, _("At most %(n)s channels.") % {"n": MAX_CHANNELS})
    return cleaned


def _name_clean(value: str, field_name: str = "name", max_length: int = 200) -> str:
    value = (value or "").strip()
    if not value:
        raise _error(field_name, _("This field is required."))
    if len(value) > max_length:
        raise _error(field_name, _("At most %(n)s characters.") % {"n": max_length})
    return value


# --- CJM ------------------------------------------------------------------------------------------
@transaction.atomic
def cjm_create(
    *,
    name: str,
    audience: str = "",
    description: str = "",
    channels: Sequence[str] = (),
    stage_names: Sequence[str] | None = None,
) -> CustomerJourneyMap:
    """A new map, with the default stages (in the active language) unless others are given."""
    cjm = CustomerJourneyMap.objects.create(
        name=_name_clean(name),
        audience=(audience or "").strip(),
        description=description or "",
        channels=_channels_clean(channels),
    )
    names = [str(n) for n in (DEFAULT_STAGES if stage_names is None else stage_names)]
    for position, stage_name in enumerate(names):
        CjmStage.objects.create(
            cjm=cjm,
            name=_name_clean(stage_name, f"stages[{position}].name", 100),
            position=position,
        )
    return cjm


@transaction.atomic
def cjm_update(*, cjm: CustomerJourneyMap, **fields) -> CustomerJourneyMap:
    unknown = set(fields) - CJM_FIELDS
    if unknown:
        raise _error(sorted(unknown)[0], _("Unknown field."))
    if "name" in fields:
        cjm.name = _name_clean(fields["name"])
    if "audience" in fields:
        cjm.audience = (fields["audience"] or "").strip()
    if "description" in fields:
        cjm.description = fields["description"] or ""
    if "channels" in fields:
        cjm.channels = _channels_clean(fields["channels"])
    cjm.updated_at = now()
    cjm.save()
    return cjm


@transaction.atomic
def cjm_delete(*, cjm: CustomerJourneyMap) -> None:
    cjm.delete()


def _touch(cjm: CustomerJourneyMap) -> None:
    CustomerJourneyMap.objects.filter(pk=cjm.pk).update(updated_at=now())


@transaction.atomic
def cjm_stage_add(
    *, cjm: CustomerJourneyMap, name: str, segment: Segment | None = None
) -> CjmStage:
    """A stage at the end of the map."""
    if cjm.stages.count() >= MAX_STAGES:
        raise _error("name", _("A map has at most %(n)s stages.") % {"n": MAX_STAGES})
    last = cjm.stages.aggregate(last=Max("position"))["last"]
    stage = CjmStage.objects.create(
        cjm=cjm,
        name=_name_clean(name, max_length=100),
        segment=segment,
        position=0 if last is None else last + 1,
    )
    _touch(cjm)
    return stage


@transaction.atomic
def cjm_stage_update(*, stage: CjmStage, name: str, segment: Segment | None) -> CjmStage:
    stage.name = _name_clean(name, max_length=100)
    stage.segment = segment
    stage.save(update_fields=["name", "segment"])
    _touch(stage.cjm)
    return stage


@transaction.atomic
def cjm_stages_reorder(*, cjm: CustomerJourneyMap, stage_ids: Sequence[int]) -> None:
    """Put the map's stages in this order; the list must hold each of its stages once."""
    current = set(cjm.stages.values_list("id", flat=True))
    if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != current:
        raise _error("stage_ids", _("Give each of the map's stages exactly once."))
    for position, stage_id in enumerate(stage_ids):
        CjmStage.objects.filter(pk=stage_id).update(position=position)
    _touch(cjm)


@transaction.atomic
def cjm_stage_move(*, stage: CjmStage, offset: int) -> None:
    """Move a stage left (-1) or right (+1); at either end it stays."""
    ids = list(stage.cjm.stages.values_list("id", flat=True))
    index = ids.index(stage.pk)
    target = min(max(index + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    cjm_stages_reorder(cjm=stage.cjm, stage_ids=ids)


@transaction.atomic
def cjm_stage_delete(*, stage: CjmStage) -> None:
    cjm = stage.cjm
    stage.delete()
    cjm_stages_reorder(cjm=cjm, stage_ids=list(cjm.stages.values_list("id", flat=True)))


@transaction.atomic
def cjm_cell_save(*, stage: CjmStage, channel: str, **texts: str) -> CjmCell:
    """Write one stage × channel cell (its five texts); an empty cell is removed."""
    unknown = set(texts) - set(CELL_TEXT_FIELDS)
    if unknown:
        raise _error(sorted(unknown)[0], _("Unknown field."))
    channel = _channels_clean([channel], "channel")
    if not channel:
        raise _error("channel", _("This field is required."))
    cell, _created = CjmCell.objects.get_or_create(stage=stage, channel=channel[0])
    for name, value in texts.items():
        setattr(cell, name, (value or "").strip())
    cell.save()
    if channel[0] not in stage.cjm.channels:
        stage.cjm.channels = [*stage.cjm.channels, channel[0]]
        stage.cjm.save(update_fields=["channels"])
    _touch(stage.cjm)
    return cell


@transaction.atomic
def cjm_link_add(*, cell: CjmCell, kind: str, object_id: int) -> CjmSolutionLink:
    if kind not in LinkKind.values:
        raise _error("kind", _("Unknown kind “%(kind)s”.") % {"kind": kind})
    link_target_check(kind=kind, object_id=object_id)
    link, _created = CjmSolutionLink.objects.get_or_create(
        cell=cell, kind=kind, object_id=object_id
    )
    _touch(cell.stage.cjm)
    return link


@transaction.atomic
def cjm_link_remove(*, link: CjmSolutionLink) -> None:
    link.delete()


@dataclass
class CellSpec:
    channel: str
    texts: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class StageSpec:
    name: str
    id: int | None = None
    segment: Segment | None = None
    cells: list[CellSpec] | None = None  # None: the stage's cells are left as they are


@transaction.atomic
def cjm_stages_replace(*, cjm: CustomerJourneyMap, stages: Sequence[StageSpec]) -> None:
    """Make the map's stages these, in this order: a stage given with its id is kept (and
    renamed), one without is added, one left out is deleted. Given cells replace the stage's."""
    if len(stages) > MAX_STAGES:
        raise _error("stages", _("A map has at most %(n)s stages.") % {"n": MAX_STAGES})
    existing = {s.pk: s for s in cjm.stages.all()}
    kept: list[CjmStage] = []
    for i, spec in enumerate(stages):
        name = _name_clean(spec.name, f"stages[{i}].name", 100)
        if spec.id is not None:
            stage = existing.pop(spec.id, None)
            if stage is None:
                raise _error(f"stages[{i}].id", _("No stage with this id on this map."))
            stage.name, stage.segment, stage.position = name, spec.segment, i
            stage.save()
        else:
            stage = CjmStage.objects.create(cjm=cjm, name=name, segment=spec.segment, position=i)
        kept.append(stage)
    for stage in existing.values():
        stage.delete()
    for i, (spec, stage) in enumerate(zip(stages, kept, strict=True)):
        if spec.cells is None:
            continue
        stage.cells.all().delete()
        for j, cell_spec in enumerate(spec.cells):
            prefix = f"stages[{i}].cells[{j}]"
            try:
                cell = cjm_cell_save(stage=stage, channel=cell_spec.channel, **cell_spec.texts)
            except ValidationError as error:
                raise _prefixed(error, prefix) from None
            for k, (kind, object_id) in enumerate(cell_spec.links):
                try:
                    cjm_link_add(cell=cell, kind=kind, object_id=object_id)
                except ValidationError as error:
                    raise _prefixed(error, f"{prefix}.links[{k}]") from None
    _touch(cjm)


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    return ValidationError({f"{prefix}.{k}": v for k, v in error.message_dict.items()})


# --- Communication strategies ---------------------------------------------------------------------
def _scheme_clean(scheme: str) -> str:
    if scheme not in Scheme.values:
        raise _error("scheme", _("Choose AIDA, ACCA or AIDMA."))
    return scheme


@transaction.atomic
def strategy_create(
    *,
    name: str,
    scheme: str,
    segments: Iterable[Segment] = (),
    audience: str = "",
    goal: str = "",
    timing: str = "",
    tone: str = "",
    channels: Sequence[str] = (),
) -> CommunicationStrategy:
    strategy = CommunicationStrategy.objects.create(
        name=_name_clean(name),
        scheme=_scheme_clean(scheme),
        audience=audience or "",
        goal=goal or "",
        timing=timing or "",
        tone=tone or "",
        channels=_channels_clean(channels),
    )
    strategy.segments.set(list(segments))
    return strategy


@transaction.atomic
def strategy_update(*, strategy: CommunicationStrategy, **fields) -> CommunicationStrategy:
    """Change the given fields. A new scheme keeps the content whose stage it also has (both
    AIDA and AIDMA have 'desire') and refuses to drop any other: untag it first."""
    unknown = set(fields) - STRATEGY_FIELDS
    if unknown:
        raise _error(sorted(unknown)[0], _("Unknown field."))
    if "name" in fields:
        strategy.name = _name_clean(fields["name"])
    if "scheme" in fields:
        scheme = _scheme_clean(fields["scheme"])
        keys = {key for key, _label in SCHEME_STAGES[scheme]}
        if strategy.content.exclude(stage__in=keys).exists():
            raise _error(
                "scheme",
                _("Some content is tagged with a stage this scheme does not have; untag it first."),
            )
        strategy.scheme = scheme
    for name in ("audience", "goal", "timing", "tone"):
        if name in fields:
            setattr(strategy, name, fields[name] or "")
    if "channels" in fields:
        strategy.channels = _channels_clean(fields["channels"])
    strategy.updated_at = now()
    strategy.save()
    if "segments" in fields:
        strategy.segments.set(list(fields["segments"]))
    return strategy


@transaction.atomic
def strategy_delete(*, strategy: CommunicationStrategy) -> None:
    strategy.delete()


@transaction.atomic
def strategy_content_add(
    *,
    strategy: CommunicationStrategy,
    stage: str,
    kind: str,
    object_id: int,
    step_id: str = "",
) -> StrategyContent:
    """Tag a template, a broadcast or a journey's step with one of the scheme's stages."""
    if stage not in {key for key, _label in strategy.stages()}:
        raise _error(
            "stage", _("Not a stage of %(scheme)s.") % {"scheme": strategy.get_scheme_display()}
        )
    if kind not in ContentKind.values:
        raise _error("kind", _("Unknown kind “%(kind)s”.") % {"kind": kind})
    link_target_check(kind=kind, object_id=object_id)
    step_id = (step_id or "").strip()
    if kind == ContentKind.JOURNEY_STEP:
        if not step_id:
            raise _error("step_id", _("Name the journey's step."))
        if len(step_id) > 64:
            raise _error("step_id", _("At most %(n)s characters.") % {"n": 64})
        if step_id not in journey_step_ids(object_id):
            raise _error("step_id", _("The journey has no step “%(step)s”.") % {"step": step_id})
    elif step_id:
        raise _error("step_id", _("Only a journey step has a step id."))
    content, _created = StrategyContent.objects.get_or_create(
        strategy=strategy, stage=stage, kind=kind, object_id=object_id, step_id=step_id
    )
    CommunicationStrategy.objects.filter(pk=strategy.pk).update(updated_at=now())
    return content


@transaction.atomic
def strategy_content_remove(*, content: StrategyContent) -> None:
    content.delete()
