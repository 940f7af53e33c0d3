"""What the builder draws: the layout of a definition plus, per node, its words, its live counts
and whether a check found a problem on it; and the side panel's list of problems."""

from __future__ import annotations

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
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
    static_graph: bool = False,
) -> dict:
    """{layout, nodes, edges}: nodes are dicts with their SVG markup (`svg`); `counts` are the
    live version's per step ({step: {"entered": n, "waiting": n, "converted": n, …}})."""
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
    words = {
        "start": escape(_("start")),
        "problem": escape(_("has a problem")),
        "lost": escape(_("cannot be reached from the start")),
        "unreachable": escape(_("unreachable")),
        "add": escape(_("Add a step after this one")),
    }
    for n in nodes:
        n["svg"] = node_svg(n, words, static_graph=static_graph)
    edges = [{"edge": e, "text": clip(e.text, 18)} for e in layout.edges]
    return {
        "layout": layout,
        "nodes": nodes,
        "edges": edges,
        "edges_svg": edges_svg(edges),
        "static_graph": static_graph,
    }


# The SVG is written here rather than by the template: a 200-step journey is some 6,000 template
# nodes, which took most of the page's time; these few string joins take a few milliseconds.
def edges_svg(edges: list[dict]):
    paths, labels = [], []
    for item in edges:
        e = item["edge"]
        back = " is-back" if e.back else ""
        muted = " is-muted" if e.muted else ""
        title = escape(f"{e.source} → {e.target}: {e.text}")
        paths.append(
            f'<path class="jr-edge{back}{muted}" d="{escape(e.path)}" marker-end="url(#jr-arrow)">'
            f"<title>{title}</title></path>"
        )
        anchor = "" if e.back else ' text-anchor="middle"'
        labels.append(
            f'<text class="jr-elabel{back}" x="{e.label_x}" y="{e.label_y}"{anchor} dy="4">'
            f"{escape(item['text'])}</text>"
        )
    return mark_safe(  # every value in it is escaped above, or a number
        f'<g class="jr-edges">{"".join(paths)}</g><g class="jr-labels">{"".join(labels)}</g>'
    )


def node_svg(n: dict, words: dict, *, static_graph: bool):
    node = n["node"]
    classes = f"jr-node jr-node-{node.type}"
    classes += " has-problem" if n["problem"] else ""
    classes += " is-lost" if node.unreachable else ""
    classes += " is-selected" if n["selected"] else ""
    title = f"{escape(n['kind'])}: {escape(n['full_name'])} ({escape(node.id)})"
    if n["counts"]:
        title += f" — {escape(n['counts_title'])}"
    if n["problem"]:
        title += f" — {words['problem']}"
    if node.unreachable:
        title += f" — {words['lost']}"
    if n["counts"]:
        counts = f'<text class="jr-counts" x="14" y="77">{escape(n["counts_line"])}</text>'
    elif node.unreachable:
        counts = f'<text class="jr-counts is-lost" x="14" y="77">{words["unreachable"]}</text>'
    else:
        counts = ""
    if static_graph:
        open_link, close_link = '<g class="jr-node-static">', "</g>"
    else:
        open_link = (
            f'<a href="{escape(n["href"])}" hx-get="{escape(n["edit_url"])}" hx-target="#jr-panel"'
            ' hx-swap="innerHTML show:#jr-panel:top" class="jr-node-link">'
        )
        close_link = "</a>"
    warn = "⚠ " if n["problem"] else ""
    start = f'<text class="jr-start" x="6" y="-7">▶ {words["start"]}</text>' if node.start else ""
    add = ""
    if n["can_add"]:
        w, h = node.w, node.h
        add = (
            f'<a href="{escape(n["add_href"])}" hx-get="{escape(n["add_url"])}" '
            'hx-target="#jr-panel" hx-swap="innerHTML show:#jr-panel:top" class="jr-add">'
            f'<title>{words["add"]}</title><circle cx="{w - 2}" cy="{h - 2}" r="11"/>'
            f'<path d="M{w - 7} {h - 2} h10 M{w - 2} {h - 7} v10"/></a>'
        )
    return mark_safe(  # every value in it is escaped above, or a number
        f'<g class="{classes}" transform="translate({node.x} {node.y})" '
        f'data-step="{escape(node.id)}">{start}{open_link}<title>{title}</title>'
        f'<rect class="jr-box" width="{node.w}" height="{node.h}" rx="10"/>'
        f'<rect class="jr-band" width="5" height="{node.h}" rx="2"/>'
        f'<svg class="jr-icon" x="14" y="9" width="14" height="14" aria-hidden="true">'
        f'<use href="#i-{escape(n["icon"])}"/></svg>'
        f'<text class="jr-kind" x="33" y="20">{escape(n["kind"])}</text>'
        f'<text class="jr-id" x="{node.w - 12}" y="20" text-anchor="end">{warn}'
        f"{escape(n['short_id'])}</text>"
        f'<text class="jr-title" x="14" y="42">{escape(n["name"])}</text>'
        f'<text class="jr-sum" x="14" y="60">{escape(n["summary"])}</text>'
        f"{counts}{close_link}{add}</g>"
    )
