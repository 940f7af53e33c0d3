"""The builder's side panel: a step's form (read-only without manage_campaigns), the "Add a step
after…" chooser (which way out, which kind of step) and then the new step's form."""

from __future__ import annotations

from django.urls import reverse

from campaigns.journeys.definition import Definition
from campaigns.journeys.step_forms import STEP_FORMS, STEP_TYPES, StepForm, way_outs
from campaigns.views.journeys_labels import kind_label, step_type_label, way_label


def step_form(
    definition: Definition, step_id: str, *, data=None, editable: bool = True
) -> StepForm | None:
    step = definition.step(step_id)
    if step is None:
        return None
    form_class = STEP_FORMS[step.type]
    form = form_class(
        data, definition=definition, step_id=step_id, initial=form_class.initial_for(step)
    )
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    return form


def edit_panel(journey, definition: Definition, step_id: str, form: StepForm, editable: bool):
    step = definition.step(step_id)
    return {
        "mode": "step",
        "step_id": step_id,
        "step": step,
        "kind": kind_label(step.type),
        "type_label": step_type_label(step.type),
        "form": form,
        "editable": editable,
        "action_url": reverse("campaigns:journey_step", args=[journey.pk, step_id]),
        "remove_url": reverse("campaigns:journey_step_remove", args=[journey.pk, step_id]),
        "add_url": reverse("campaigns:journey_step_add", args=[journey.pk]) + f"?after={step_id}",
        "can_add": editable and bool(way_outs(step)),
    }


def add_panel(
    journey,
    definition: Definition,
    *,
    after: str,
    label: str = "",
    step_type: str = "",
    data=None,
) -> dict | None:
    """The chooser, or (with a way out and a type chosen) the new step's form."""
    if after:
        step = definition.step(after)
        if step is None:
            return None
        ways = [(w, way_label(w)) for w in way_outs(step)]
        after_name = step.name or step.id
    else:
        ways, after_name = [], ""
    if label not in {w for w, _t in ways}:
        label = ways[0][0] if ways else "next"
    panel = {
        "mode": "add",
        "after": after,
        "after_name": after_name,
        "label": label,
        "ways": ways,
        "types": STEP_TYPES,
        "chooser_url": reverse("campaigns:journey_step_add", args=[journey.pk]),
        "action_url": reverse("campaigns:journey_step_add", args=[journey.pk]),
    }
    if step_type in STEP_FORMS:
        panel.update(
            mode="add_form",
            type=step_type,
            type_label=step_type_label(step_type),
            form=STEP_FORMS[step_type](data, definition=definition),
        )
    return panel


def panel_context(request, journey, definition: Definition | None, *, editable: bool) -> dict:
    """The panel for the builder's GET parameters: ?step=<id>, or ?add_after=<id> (&label,
    &type), or ?add_first=1; else just the problems and versions."""
    if definition is None:
        return {"mode": "none"}
    step_id = request.GET.get("step", "")
    if step_id and definition.step(step_id) is not None:
        form = step_form(definition, step_id, editable=editable)
        return edit_panel(journey, definition, step_id, form, editable)
    after = request.GET.get("add_after", "")
    if editable and (after or request.GET.get("add_first") or not definition.steps):
        panel = add_panel(
            journey,
            definition,
            after=after,
            label=request.GET.get("label", ""),
            step_type=request.GET.get("type", ""),
        )
        if panel is not None:
            return panel
    return {"mode": "none"}
