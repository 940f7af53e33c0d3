"""Checks of a whole journey before it is published: what pydantic cannot see step by step.

Each problem names the step (or "" for the journey), the field and a stable code:
- no_start, unknown_step: the start or a successor names a step that does not exist;
- unreachable: no path from the start reaches the step;
- no_timeout: a wait for outcomes without a timeout (a run could wait forever);
- unbounded_loop: a cycle in which no step sets max_visits;
- unknown_template, archived_template, missing_variant: a send's template, or its channel's variant;
- no_consent_handling: a send that does not say what happens when the customer can't be reached;
- unknown_survey, archived_survey: a survey step's or a survey outcome's survey;
- unknown_segment, static_segment_needed, unknown_pool, unknown_attribute, bad_message_step:
  references.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from campaigns.journeys.definition import BEST, CHANNELS, Definition, successors


@dataclass(frozen=True)
class Problem:
    step: str
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"step": self.step, "field": self.field, "code": self.code, "message": self.message}


def definition_problems(definition: Definition) -> list[Problem]:
    problems: list[Problem] = []
    steps = definition.by_id()
    if not definition.steps:
        return [Problem("", "steps", "no_steps", _("Add at least one step."))]
    if definition.start not in steps:
        problems.append(Problem("", "start", "no_start", _("Choose the first step.")))
    for step in definition.steps:
        for label, target in successors(step):
            if target not in steps:
                problems.append(
                    Problem(
                        step.id,
                        label,
                        "unknown_step",
                        _("“%(label)s” leads to a step that does not exist: %(target)s.")
                        % {"label": label, "target": target},
                    )
                )
    problems += _unreachable(definition)
    problems += _loops(definition)
    templates = _templates(definition)
    for step in definition.steps:
        problems += _step_problems(definition, step, templates)
    problems += _reference_problems(definition)
    problems += _survey_problems(definition)
    return problems


def _survey_problems(definition: Definition) -> list[Problem]:
    """Survey steps and "survey answered" outcomes name a survey that exists, not archived."""
    refs = [(s.id, "survey_id", s.survey_id) for s in definition.steps if s.type == "survey"]
    for step in definition.steps:
        if step.type == "wait":
            refs += [
                (step.id, f"outcomes.{o.name}.survey_id", o.survey_id)
                for o in step.outcomes
                if o.kind == "survey"
            ]
    if not refs:
        return []
    from campaigns.journeys.extensions import surveys_by_id

    known = surveys_by_id()
    problems = []
    for step_id, field, survey_id in refs:
        survey = known.get(survey_id)
        if survey is None:
            problems.append(
                Problem(step_id, field, "unknown_survey", _("The survey does not exist."))
            )
        elif survey.archived:
            problems.append(
                Problem(step_id, field, "archived_survey", _("The survey is archived."))
            )
    return problems


def _reachable(definition: Definition) -> set[str]:
    steps = definition.by_id()
    seen: set[str] = set()
    stack = [definition.start] if definition.start in steps else []
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack += [t for _label, t in successors(steps[current]) if t in steps]
    return seen


def _unreachable(definition: Definition) -> list[Problem]:
    if definition.start not in definition.by_id():
        return []
    reachable = _reachable(definition)
    return [
        Problem(s.id, "", "unreachable", _("No path from the first step reaches this step."))
        for s in definition.steps
        if s.id not in reachable
    ]


def _loops(definition: Definition) -> list[Problem]:
    """Strongly connected components with a cycle (Tarjan's algorithm, iterative): each must
    contain a step with max_visits."""
    steps = definition.by_id()
    edges = {s.id: [t for _label, t in successors(s) if t in steps] for s in definition.steps}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            for target in targets:
                if target in on_stack:
                    low[node] = min(low[node], low[target])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    problems = []
    for component in components:
        cyclic = len(component) > 1 or component[0] in edges[component[0]]
        if cyclic and not any(steps[s].max_visits for s in component):
            first = min(component, key=lambda s: index[s])
            problems.append(
                Problem(
                    first,
                    "max_visits",
                    "unbounded_loop",
                    _("This loop (%(steps)s) has no bound: set “max visits” on one of its steps.")
                    % {"steps": ", ".join(sorted(component))},
                )
            )
    return problems


def _templates(definition: Definition) -> dict:
    """Every template the steps send, in one query."""
    from campaigns.message_templates.models import Template

    ids = set()
    for step in definition.steps:
        if step.type == "send":
            ids.add(step.template_id)
        if step.type == "cascade":
            ids |= {c.template_id for c in step.channels}
    return Template.objects.select_related("current_version").in_bulk(ids)


def _step_problems(definition: Definition, step, templates: dict) -> list[Problem]:
    problems = []
    if step.type == "wait" and step.mode == "outcomes":
        if not step.timeout_seconds:
            problems.append(
                Problem(
                    step.id,
                    "timeout_seconds",
                    "no_timeout",
                    _("A wait for outcomes needs a timeout, or a run could wait forever."),
                )
            )
        for outcome in step.outcomes:
            if outcome.kind == "message" and outcome.step:
                target = definition.step(outcome.step)
                if target is None or target.type not in ("send", "cascade"):
                    problems.append(
                        Problem(
                            step.id,
                            f"outcomes.{outcome.name}.step",
                            "bad_message_step",
                            _("“%(name)s” must watch a send or cascade step.")
                            % {"name": outcome.name},
                        )
                    )
    if step.type in ("send", "survey") and step.on_unreachable is None:
        problems.append(
            Problem(
                step.id,
                "on_unreachable",
                "no_consent_handling",
                _(
                    "Say what happens when the customer cannot be reached on the channel "
                    "(no consent, no address or over a cap): continue, exit or another step."
                ),
            )
        )
    if step.type == "survey" and step.channel != BEST and step.channel not in CHANNELS:
        problems.append(Problem(step.id, "channel", "unknown_channel", _("Unknown channel.")))
    if step.type == "send":
        problems += _template_problems(
            step.id, "template_id", templates.get(step.template_id), step.channel
        )
    if step.type == "cascade":
        for number, channel in enumerate(step.channels):
            problems += _template_problems(
                step.id,
                f"channels.{number}.template_id",
                templates.get(channel.template_id),
                channel.channel,
            )
    return problems


def _template_problems(step_id: str, field: str, template, channel: str) -> list[Problem]:
    if template is None or template.current_version is None:
        return [Problem(step_id, field, "unknown_template", _("The template does not exist."))]
    if template.archived_at is not None:
        return [Problem(step_id, field, "archived_template", _("The template is archived."))]
    variants = set((template.current_version.variants or {}).keys())
    if channel == BEST:
        if not variants & set(CHANNELS):
            return [
                Problem(
                    step_id, field, "missing_variant", _("The template has no channel variant.")
                )
            ]
        return []
    if channel not in CHANNELS:
        return [Problem(step_id, "channel", "unknown_channel", _("Unknown channel."))]
    if channel not in variants:
        return [
            Problem(
                step_id,
                field,
                "missing_variant",
                _("The template has no %(channel)s variant.") % {"channel": channel},
            )
        ]
    return []


def _reference_problems(definition: Definition) -> list[Problem]:
    from campaigns.promo.models import PromoPool
    from customers.models import Segment

    segment_refs: list[tuple[str, str, int, bool]] = []  # step, field, id, must be static
    trigger = definition.trigger
    if trigger.kind in ("segment_entered", "segment_left", "schedule"):
        segment_refs.append(("", "trigger.segment_id", trigger.segment_id, False))
    if definition.exits.left_segment_id:
        segment_refs.append(("", "exits.left_segment_id", definition.exits.left_segment_id, False))
    pools: list[tuple[str, int]] = []
    for step in definition.steps:
        if step.type == "action" and step.action in ("segment_add", "segment_remove"):
            segment_refs.append((step.id, "segment_id", step.segment_id, True))
        if step.type == "action" and step.action == "promo_issue":
            pools.append((step.id, step.pool_id))
        if step.type == "wait":
            for outcome in step.outcomes:
                if outcome.kind == "segment":
                    segment_refs.append(
                        (step.id, f"outcomes.{outcome.name}.segment_id", outcome.segment_id, False)
                    )
    kinds = dict(
        Segment.objects.filter(pk__in=[r[2] for r in segment_refs]).values_list("pk", "kind")
    )
    problems = []
    for step_id, field, segment_id, static in segment_refs:
        if segment_id not in kinds:
            problems.append(
                Problem(step_id, field, "unknown_segment", _("The segment does not exist."))
            )
        elif static and kinds[segment_id] != Segment.Kind.STATIC:
            problems.append(
                Problem(
                    step_id,
                    field,
                    "static_segment_needed",
                    _("Only a static segment can be added to or removed from."),
                )
            )
    from customers.models import AttributeDefinition

    attribute_steps = [
        s for s in definition.steps if s.type == "action" and s.action == "attribute_set"
    ]
    defined = set(
        AttributeDefinition.objects.filter(key__in=[s.key for s in attribute_steps]).values_list(
            "key", flat=True
        )
    )
    for step in attribute_steps:
        if step.key not in defined:
            problems.append(
                Problem(
                    step.id,
                    "key",
                    "unknown_attribute",
                    _("“%(key)s” is not a defined attribute (Settings → attributes in the admin).")
                    % {"key": step.key},
                )
            )
    known_pools = set(
        PromoPool.objects.filter(pk__in=[p[1] for p in pools]).values_list("pk", flat=True)
    )
    for step_id, pool_id in pools:
        if pool_id not in known_pools:
            problems.append(
                Problem(step_id, "pool_id", "unknown_pool", _("The promo pool does not exist."))
            )
    return problems
