"""Staff-readable words for journeys: statuses, step kinds, ways out, and the one-line summary
each node of the builder shows under its name."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from campaigns.journeys.definition import Definition
from campaigns.journeys.forms_journey import TRIGGER_LABELS
from campaigns.journeys.step_forms import ACTION_LABELS, STEP_TYPE_LABELS
from workspace.templatetags.workspace_tags import channel_label

STATUS = {
    # value: (tone, icon)
    "draft": ("neutral", "note"),
    "live": ("ok", "bolt"),
    "paused": ("warn", "clock"),
    "archived": ("neutral", "lock"),
}
ICONS = {
    "send": "send",
    "survey": "chat",
    "wait": "clock",
    "branch": "layers",
    "split": "grid",
    "action": "bolt",
    "cascade": "megaphone",
    "exit": "x",
}


def status_of(journey) -> dict:
    tone, icon = STATUS.get(journey.status, ("neutral", "info"))
    return {
        "value": journey.status,
        "label": journey.get_status_display(),
        "tone": tone,
        "icon": icon,
    }


WAY_LABELS = {
    "next": gettext_lazy("next"),
    "timeout": gettext_lazy("timeout"),
    "default": gettext_lazy("otherwise"),
    "outcome": gettext_lazy("outcome"),
    "unreachable": gettext_lazy("unreachable"),
    "holdout": gettext_lazy("holdout"),
}
KIND_LABELS = {
    "send": pgettext_lazy("journey step kind", "Send"),
    "survey": pgettext_lazy("journey step kind", "Survey"),
    "wait": pgettext_lazy("journey step kind", "Wait"),
    "branch": pgettext_lazy("journey step kind", "Branch"),
    "split": pgettext_lazy("journey step kind", "Split"),
    "action": pgettext_lazy("journey step kind", "Action"),
    "cascade": pgettext_lazy("journey step kind", "Cascade"),
    "exit": pgettext_lazy("journey step kind", "Exit"),
}


def way_label(label: str) -> str:
    """A way out as shown on an edge: the built-in ones translated, named ones as written.
    (Only the one asked for is translated: a 200-step graph asks hundreds of times.)"""
    found = WAY_LABELS.get(label)
    return str(found) if found is not None else label


def kind_label(step_type: str) -> str:
    found = KIND_LABELS.get(step_type)
    return str(found) if found is not None else step_type


def step_type_label(step_type: str) -> str:
    return str(STEP_TYPE_LABELS.get(step_type, step_type))


def duration_text(seconds: int | None) -> str:
    if not seconds:
        return "—"
    for size, one in (
        (86400, lambda n: ngettext("%(n)s day", "%(n)s days", n)),
        (3600, lambda n: ngettext("%(n)s hour", "%(n)s hours", n)),
        (60, lambda n: ngettext("%(n)s minute", "%(n)s minutes", n)),
    ):
        if seconds % size == 0:
            n = seconds // size
            return one(n) % {"n": n}
    return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}


def step_summary(step, templates: dict[int, str]) -> str:
    """What a step does, in a few words, for its node."""
    if step.type == "send":
        channel = _("best channel") if step.channel == "best" else channel_label(step.channel)
        return f"{templates.get(step.template_id, f'#{step.template_id}')} · {channel}"
    if step.type == "survey":
        from campaigns.journeys.extensions import surveys_by_id

        survey = surveys_by_id().get(step.survey_id)
        channel = _("best channel") if step.channel == "best" else channel_label(step.channel)
        return f"{survey.name if survey else f'#{step.survey_id}'} · {channel}"
    if step.type == "wait":
        if step.mode == "duration":
            return duration_text(step.seconds)
        if step.mode == "until_time":
            return _("until %(time)s") % {"time": step.time}
        names = ", ".join(o.name for o in step.outcomes)
        return _("for %(names)s") % {"names": names}
    if step.type == "branch":
        return ngettext("%(n)s case", "%(n)s cases", len(step.cases)) % {"n": len(step.cases)}
    if step.type == "split":
        arms = " / ".join(f"{a.percent:g}" for a in step.arms)
        if step.holdout_percent:
            arms += " + " + _("holdout %(p)s") % {"p": f"{step.holdout_percent:g}"}
        return f"{arms} %"
    if step.type == "action":
        return str(ACTION_LABELS.get(step.action, step.action))
    if step.type == "cascade":
        return " → ".join(channel_label(c.channel) for c in step.channels)
    return ""


def trigger_summary(definition: Definition | None) -> str:
    if definition is None:
        return "—"
    t = definition.trigger
    label = str(TRIGGER_LABELS.get(t.kind, t.kind))
    if t.kind == "event":
        return f"{label}: {t.event}"
    return label


def clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"
