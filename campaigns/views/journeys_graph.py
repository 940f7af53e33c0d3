"""What the builder draws: the layout of a definition plus, per node, its words, its live counts
and whether a check found a problem on it; and the side panel's list of problems."""

from __future__ import annotations

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from campaigns.journeys.definition import Definition
from campaigns.journeys.layout import Layout, journey_layout
from campaigns.journeys.step_forms import way_outs
from campaigns.message_templates.models import Template
from campaigns.views.journeys_labels import ICONS, clip, kind_label, step_summary, way_label

NAME_CHARS = 24
SUMMARY_CHARS = 29
ID_CHARS = 12  # beside the kind label


def _n(value: int) -> str:
    return number_format(value or 0, 0, force_grouping=True)


def template_names(definition: Definition) -> dict[int, str]:
    ids = {s.template_id for s in definition.steps if s.type == "send"}
    ids |= {c.template_id for s in definition.steps if s.type == "cascade" for c in s.channels}
    return dict(Template.objects.filter(pk__in=ids).values_list("pk", "name"))


def _counts_text(c: dict) -> dict:
    """The node's counts line and its longer form for the tooltip (made here, not by
    {% blocktranslate %} per node: a 200-step journey renders in a third of the time)."""
    values = {
        "e": _n(c.get("entered", 0)),
        "w": _n(c.get("waiting", 0)),
        "c": _n(c.get("converted", 0)),
    }
    return {
        "counts_line": _("in %(e)s · waiting %(w)s · conv. %(c)s") % values,
        "counts_title": _("entered %(e)s, waiting now %(w)s, converted %(c)s") % values,
    }


def graph_context(
    journey,
    definition: Definition,
    *,
    counts: dict[str, dict[str, int]] | None = None,
    problem_steps: set[str] | None = None,
    selected: str = "",
    editable: bool = False,
) -> dict:
    """{layout, nodes, edges}: nodes are dicts the SVG template reads; `counts` are the live
    version's per step ({step: {"entered": n, "waiting": n, "converted": n, …}})."""
    layout: Layout = journey_layout(definition, label_text=way_label)
    templates = template_names(definition)
    problem_steps = problem_steps or set()
    by_id = definition.by_id()
    base = reverse("campaigns:journey", args=[journey.pk])
    # One reverse() per page, not per node: a step's URL is this one with its id in place.
    step_url = reverse("campaigns:journey_step", args=[journey.pk, "STEP"]).replace("STEP", "{}")
    add_url = reverse("campaigns:journey_step_add", args=[journey.pk]) + "?after={}"
    nodes = []
    for node in layout.nodes:
        step = by_id[node.id]
        c = (counts or {}).get(node.id, {})
        nodes.append(
            {
                "node": node,
                "kind": kind_label(step.type),
                "icon": ICONS.get(step.type, "info"),
                "name": clip(step.name or node.id, NAME_CHARS),
                "full_name": step.name or node.id,
                "short_id": clip(node.id, ID_CHARS),
                "summary": clip(step_summary(step, templates), SUMMARY_CHARS),
                "counts": counts is not None,
                **(_counts_text(c) if counts is not None else {}),
                "problem": node.id in problem_steps,
                "selected": node.id == selected,
                "can_add": editable and bool(way_outs(step)),
                "href": f"{base}?step={node.id}#jr-panel",
                "add_href": f"{base}?add_after={node.id}#jr-panel",
                "edit_url": step_url.format(node.id),
                "add_url": add_url.format(node.id),
            }
        )
    edges = [
        {
            "edge": e,
            "text": clip(e.text, 18),
            "width": len(clip(e.text, 18)) * 6.6 + 10,
        }
        for e in layout.edges
    ]
    return {"layout": layout, "nodes": nodes, "edges": edges}
