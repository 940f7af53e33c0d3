"""Creating and editing a journey's draft, and publishing it as a new immutable version.

The draft is a Definition as JSON. Every edit re-validates the whole draft, so a stored draft
always parses (problems that only block publishing, such as an unreachable step, are allowed
while editing and listed by `definition_problems`). Publishing pins each template to its current
version, so editing a template later never changes what live runs send.

Runs already in the journey stay on their version unless the publisher maps their current steps
onto steps of the new version (`mapping`, old step → new step): mapped runs move at once and
continue from the new step; unmapped ones finish on the old version.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from api.audit import audit_record
from campaigns.journeys.definition import Definition, definition_parse, error_loc
from campaigns.journeys.models import (
    OPEN_STATES,
    Enrollment,
    EnrollmentLog,
    EnrollmentState,
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from campaigns.journeys.services.checks import definition_problems


class JourneyError(Exception):
    """A journey that cannot be saved or moved this way; `field` names the culprit."""

    def __init__(self, field: str, message: str, code: str = "invalid", problems=None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
        self.problems = problems or []


def _parsed(data: dict) -> Definition:
    """The definition, or JourneyError naming the first bad field."""
    from api.types import InvalidJson, check_json

    try:  # what every database stores and every reader renders (no NUL, no huge integers)
        check_json(data)
    except InvalidJson as exc:
        raise JourneyError(exc.path or "definition", exc.message, "invalid") from None
    try:
        return definition_parse(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error_loc(error["loc"], data)) or "definition"
        raise JourneyError(field, error["msg"], "invalid") from None


def _audit(actor, action: str, journey: Journey, after=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="journey",
        object_id=journey.pk,
        object_repr=journey.name,
        after=after,
    )


@transaction.atomic
def journey_create(
    *, name: str, description: str = "", definition: dict, actor=None, template_key: str = ""
) -> Journey:
    if not name.strip():
        raise JourneyError("name", _("Give the journey a name."))
    parsed = _parsed(definition)
    journey = Journey.objects.create(
        name=name.strip()[:150],
        description=description,
        draft=parsed.model_dump(mode="json"),
        created_by=actor if actor is not None and actor.is_authenticated else None,
        template_key=template_key,
    )
    _audit(actor, "journey.create", journey)
    return journey


def _locked(journey: Journey) -> Journey:
    return Journey.objects.select_for_update().get(pk=journey.pk)


@transaction.atomic
def journey_draft_save(
    *,
    journey: Journey,
    definition: dict,
    actor=None,
    name: str | None = None,
    description: str | None = None,
) -> Journey:
    journey = _locked(journey)
    if journey.status == JourneyStatus.ARCHIVED:
        raise JourneyError("status", _("An archived journey cannot be changed."), "wrong_status")
    parsed = _parsed(definition)
    draft = parsed.model_dump(mode="json")
    if draft != journey.draft:  # a new name alone leaves the draft as published
        journey.draft, journey.draft_changed = draft, True
    if name is not None:
        if not name.strip():
            raise JourneyError("name", _("Give the journey a name."))
        journey.name = name.strip()[:150]
    if description is not None:
        journey.description = description
    journey.updated_at = timezone.now()
    journey.save()
    _audit(actor, "journey.draft", journey)
    return journey


# --- Editing one step ----------------------------------------------------------------------------
def _way(step: dict, label: str) -> tuple[Any, str] | None:
    """(container, key) holding the target of a step's way out called `label`."""
    simple = {
        "next": "next",
        "unreachable": "on_unreachable",
        "timeout": "timeout_next",
        "default": "default_next",
        "outcome": "next_on_outcome",
    }
    if label in simple and simple[label] in _fields_of(step):
        return step, simple[label]
    for list_key in ("outcomes", "cases", "arms"):
        for item in step.get(list_key) or []:
            if item.get("name") == label:
                return item, "next"
    return None


def _fields_of(step: dict) -> set[str]:
    kind = step.get("type")
    return {
        "send": {"next", "on_unreachable"},
        "survey": {"next", "on_unreachable"},
        "wait": {"next", "timeout_next"},
        "branch": {"default_next"},
        "split": set(),
        "action": {"next"},
        "cascade": {"next", "next_on_outcome"},
        "exit": set(),
    }.get(kind, set())


def _primary_way(step: dict) -> tuple[Any, str] | None:
    """Where a new step inserted before an existing one is linked to continue."""
    kind = step.get("type")
    if kind == "wait":
        return (step, "timeout_next") if step.get("mode") == "outcomes" else (step, "next")
    if kind == "branch":
        return step, "default_next"
    if kind == "split":
        arms = step.get("arms") or []
        return (arms[0], "next") if arms else None
    if kind in ("send", "survey", "action", "cascade"):
        return step, "next"
    return None


def _new_id(existing: set[str], kind: str) -> str:
    number = 1
    while f"{kind}-{number}" in existing:
        number += 1
    return f"{kind}-{number}"


@transaction.atomic
def journey_step_add(
    *, journey: Journey, after: str | None, label: str = "next", step: dict, actor=None
) -> Journey:
    """Insert `step` on the `label` way out of `after` (or as the first step): what that way
    led to now follows the new step."""
    draft = copy.deepcopy(journey.draft)
    steps = draft.setdefault("steps", [])
    existing = {s["id"] for s in steps}
    step = dict(step)
    if not step.get("id"):
        step["id"] = _new_id(existing, step.get("type", "step"))
    if step["id"] in existing:
        raise JourneyError("id", _("A step with this id exists already."))
    if after is None:
        following = draft.get("start")
        draft["start"] = step["id"]
    else:
        source = next((s for s in steps if s["id"] == after), None)
        if source is None:
            raise JourneyError("after", _("No such step."), "not_found")
        way = _way(source, label)
        if way is None:
            raise JourneyError("label", _("The step has no such way out."))
        container, key = way
        following = container.get(key)
        if following in ("continue", "exit"):
            following = None
        container[key] = step["id"]
    primary = _primary_way(step)
    if following and primary is not None and not primary[0].get(primary[1]):
        primary[0][primary[1]] = following
    steps.append(step)
    return journey_draft_save(journey=journey, definition=draft, actor=actor)


@transaction.atomic
def journey_step_update(*, journey: Journey, step_id: str, step: dict, actor=None) -> Journey:
    draft = copy.deepcopy(journey.draft)
    steps = draft.get("steps", [])
    position = next((i for i, s in enumerate(steps) if s["id"] == step_id), None)
    if position is None:
        raise JourneyError("step", _("No such step."), "not_found")
    steps[position] = {**step, "id": step_id}
    return journey_draft_save(journey=journey, definition=draft, actor=actor)


@transaction.atomic
def journey_step_remove(*, journey: Journey, step_id: str, actor=None) -> Journey:
    """Remove a step; whatever led to it now leads where its main way out went."""
    draft = copy.deepcopy(journey.draft)
    steps = draft.get("steps", [])
    removed = next((s for s in steps if s["id"] == step_id), None)
    if removed is None:
        raise JourneyError("step", _("No such step."), "not_found")
    primary = _primary_way(removed)
    following = primary[0].get(primary[1]) if primary else None
    if following in ("continue", "exit", step_id):
        following = None
    steps.remove(removed)
    if draft.get("start") == step_id:
        draft["start"] = following
    for step in steps:
        for container in [
            step,
            *(step.get("outcomes") or []),
            *(step.get("cases") or []),
            *(step.get("arms") or []),
        ]:
            for key in (
                "next",
                "on_unreachable",
                "timeout_next",
                "default_next",
                "next_on_outcome",
            ):
                if container.get(key) == step_id:
                    container[key] = following if key != "on_unreachable" or following else None
        for outcome in step.get("outcomes") or []:
            if outcome.get("step") == step_id:
                outcome["step"] = None
    return journey_draft_save(journey=journey, definition=draft, actor=actor)


# --- Publishing ----------------------------------------------------------------------------------
def _pinned(definition: Definition) -> dict:
    """The definition with each send's and cascade channel's template version fixed."""
    from campaigns.message_templates.models import Template

    data = definition.model_dump(mode="json")
    template_ids = set()
    for step in data["steps"]:
        if step["type"] == "send":
            template_ids.add(step["template_id"])
        if step["type"] == "cascade":
            template_ids |= {c["template_id"] for c in step["channels"]}
    current = dict(
        Template.objects.filter(pk__in=template_ids).values_list("pk", "current_version_id")
    )
    for step in data["steps"]:
        if step["type"] == "send":
            step["template_version_id"] = current.get(step["template_id"])
        if step["type"] == "cascade":
            for channel in step["channels"]:
                channel["template_version_id"] = current.get(channel["template_id"])
    return data


def _check_mapping(journey: Journey, new: Definition, mapping: dict[str, str]) -> None:
    old = journey.live_version
    if old is None or not mapping:
        return
    old_steps = definition_parse(old.definition).by_id()
    new_steps = new.by_id()
    for source, target in mapping.items():
        if source not in old_steps:
            raise JourneyError(
                f"mapping.{source}",
                _("“%(step)s” is not a step of the live version.") % {"step": source},
            )
        if target not in new_steps:
            raise JourneyError(
                f"mapping.{source}",
                _("“%(step)s” is not a step of the new version.") % {"step": target},
            )


def _migrate_runs(journey: Journey, old: JourneyVersion, new: JourneyVersion, mapping, now) -> int:
    """Move the open runs on `old` whose step is mapped. A run that was waiting at a step of the
    same type keeps its wait (and timer); any other run acts at once on its new step."""
    old_steps = definition_parse(old.definition).by_id()
    new_steps = definition_parse(new.definition).by_id()
    moved = 0
    for source, target in mapping.items():
        same_kind = old_steps[source].type == new_steps[target].type
        runs = Enrollment.objects.filter(version=old, step=source, state__in=OPEN_STATES)
        ids = list(runs.values_list("pk", flat=True))
        if not ids:
            continue
        fields = {"version": new, "step": target, "updated_at": now}
        if not same_kind:
            fields |= {"state": EnrollmentState.ACTIVE, "wake_at": now, "step_entered_at": now}
        moved += Enrollment.objects.filter(pk__in=ids).update(**fields)
        EnrollmentLog.objects.bulk_create(
            EnrollmentLog(
                enrollment_id=enrollment_id,
                journey_id=journey.pk,
                customer_id=customer_id,
                step=target,
                outcome="migrated",
                detail=f"v{old.number} {source} → v{new.number} {target}",
                at=now,
            )
            for enrollment_id, customer_id in Enrollment.objects.filter(pk__in=ids).values_list(
                "pk", "customer_id"
            )
        )
    return moved


@transaction.atomic
def journey_publish(
    *, journey: Journey, actor=None, mapping: dict[str, str] | None = None, note: str = ""
) -> JourneyVersion:
    """Publish the draft as the next version; new entrants follow it from now on."""
    from campaigns.journeys.services.triggers import journey_triggers_published

    journey = _locked(journey)
    if journey.status == JourneyStatus.ARCHIVED:
        raise JourneyError("status", _("An archived journey cannot be published."), "wrong_status")
    definition = _parsed(journey.draft)
    problems = definition_problems(definition)
    if problems:
        raise JourneyError(
            "definition",
            _("Fix these problems before publishing."),
            "invalid",
            problems=problems,
        )
    mapping = {k: v for k, v in (mapping or {}).items() if v}
    _check_mapping(journey, definition, mapping)
    now = timezone.now()
    previous = journey.live_version
    number = (
        journey.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = JourneyVersion.objects.create(
        journey=journey,
        number=number,
        definition=_pinned(definition),
        published_at=now,
        published_by=actor if actor is not None and actor.is_authenticated else None,
        note=note[:300],
        mapping={str(previous.pk): mapping} if previous and mapping else {},
    )
    if previous is not None and mapping:
        _migrate_runs(journey, previous, version, mapping, now)
    journey.live_version = version
    if journey.status == JourneyStatus.DRAFT:
        journey.status = JourneyStatus.LIVE
    journey.draft_changed = False
    trigger = definition.trigger
    if journey.segment_id is None and trigger.kind in (
        "segment_entered",
        "segment_left",
        "schedule",
    ):
        journey.segment_id = trigger.segment_id
    journey.updated_at = now
    journey.save()
    _audit(actor, "journey.publish", journey, after={"version": number, "mapping": mapping})
    journey_triggers_published(journey=journey, version=version, first=previous is None, now=now)
    return version


def _set_status(journey: Journey, actor, allowed: tuple, status: str, action: str) -> Journey:
    journey = _locked(journey)
    if journey.status not in allowed:
        raise JourneyError(
            "status",
            _("Not possible while the journey is %(status)s.")
            % {"status": journey.get_status_display()},
            "wrong_status",
        )
    journey.status = status
    journey.updated_at = timezone.now()
    journey.save(update_fields=["status", "updated_at"])
    _audit(actor, action, journey)
    return journey


@transaction.atomic
def journey_pause(*, journey: Journey, actor=None) -> Journey:
    return _set_status(journey, actor, (JourneyStatus.LIVE,), JourneyStatus.PAUSED, "journey.pause")


@transaction.atomic
def journey_resume(*, journey: Journey, actor=None) -> Journey:
    return _set_status(
        journey, actor, (JourneyStatus.PAUSED,), JourneyStatus.LIVE, "journey.resume"
    )


@transaction.atomic
def journey_archive(*, journey: Journey, actor=None) -> Journey:
    """End the journey: no new entrants, and every open run exits ("archived")."""
    from campaigns.journeys.services.engine import enrollments_end

    journey = _set_status(
        journey,
        actor,
        (JourneyStatus.DRAFT, JourneyStatus.LIVE, JourneyStatus.PAUSED),
        JourneyStatus.ARCHIVED,
        "journey.archive",
    )
    open_ids = list(
        Enrollment.objects.filter(journey=journey, state__in=OPEN_STATES).values_list(
            "pk", flat=True
        )
    )
    enrollments_end(open_ids, state=EnrollmentState.EXITED, reason="archived")
    return journey
