"""One form per step type, for the builder's side panel (see base.py for how they work)."""

from campaigns.journeys.step_forms.actions import ACTION_LABELS, ActionForm, ExitForm
from campaigns.journeys.step_forms.base import STEP_TYPE_LABELS, STEP_TYPES, StepForm
from campaigns.journeys.step_forms.flow import BranchForm, SplitForm, WaitForm
from campaigns.journeys.step_forms.messages import CascadeForm, SendForm, SurveyForm

STEP_FORMS: dict[str, type[StepForm]] = {
    f.type: f
    for f in (
        SendForm,
        SurveyForm,
        WaitForm,
        BranchForm,
        SplitForm,
        ActionForm,
        CascadeForm,
        ExitForm,
    )
}


def way_outs(step) -> list[str]:
    """Every way out a step has, connected or not: where "Add a step after…" may insert."""
    if step.type in ("send", "survey"):
        return ["next", "unreachable"]
    if step.type == "wait":
        if step.mode == "outcomes":
            return [o.name for o in step.outcomes] + ["timeout"]
        return ["next"]
    if step.type == "branch":
        return [c.name for c in step.cases] + ["default"]
    if step.type == "split":
        return [a.name for a in step.arms]
    if step.type == "cascade":
        return ["outcome", "next"]
    if step.type == "action":
        return ["next"]
    return []


__all__ = ["ACTION_LABELS", "STEP_FORMS", "STEP_TYPES", "STEP_TYPE_LABELS", "StepForm", "way_outs"]
