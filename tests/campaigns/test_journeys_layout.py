"""The journey layout: every step placed, edges pointing down except the loops' closing edges,
no two boxes overlapping, unreachable steps in a last row, and fast enough for 200 steps."""

import pytest
from django.template.loader import render_to_string

from campaigns.journeys.definition import definition_parse, successors
from campaigns.journeys.layout import journey_layout
from campaigns.journeys.models import Journey
from campaigns.views.journeys_graph import graph_context
from tests.campaigns.journey_shapes import (
    branch,
    definition,
    exit_,
    large,
    send,
    wait,
    wait_outcomes,
    welcome,
)


def _overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _check_invariants(parsed):
    layout = journey_layout(parsed)
    ids = {s.id for s in parsed.steps}
    assert {n.id for n in layout.nodes} == ids  # every step placed, once
    assert len(layout.nodes) == len(ids)
    nodes = layout.by_id
    for i, a in enumerate(layout.nodes):
        assert a.x >= 0 and a.x + a.w <= layout.width
        assert a.y >= 0 and a.y + a.h <= layout.height
        for b in layout.nodes[i + 1 :]:
            assert not _overlaps(a, b), f"{a.id} and {b.id} overlap"
    for edge in layout.edges:
        source, target = nodes[edge.source], nodes[edge.target]
        if not edge.back:
            assert target.layer > source.layer, f"{edge.source} → {edge.target} points up"
    drawn = {(e.source, e.label, e.target) for e in layout.edges}
    for step in parsed.steps:
        for label, target in successors(step):
            assert (step.id, label, target) in drawn
    return layout


def test_a_journey_with_a_loop_and_a_lost_step_lays_out_with_its_invariants():
    layout = _check_invariants(definition_parse(welcome()))
    nodes = layout.by_id
    assert nodes["hello"].layer == 0 and nodes["hello"].start
    # The loop reminder → wait-open is drawn going back up; the others point down.
    back = [(e.source, e.target) for e in layout.edges if e.back]
    assert ("reminder", "wait-open") in back
    assert all(e.back == ((e.source, e.target) in back) for e in layout.edges)
    # The lost step sits alone in the last row, flagged.
    assert nodes["orphan"].unreachable
    assert nodes["orphan"].layer == layout.layers - 1
    assert not any(n.unreachable for n in layout.nodes if n.id != "orphan")
    # Longest path: "done" comes after "gift", which comes after the branch.
    assert nodes["done"].layer > nodes["gift"].layer > nodes["vip-check"].layer


def test_edges_carry_the_ways_out_as_labels_and_curves():
    layout = journey_layout(definition_parse(welcome()))
    labels = {(e.source, e.label) for e in layout.edges}
    assert {("wait-open", "opened"), ("wait-open", "timeout"), ("vip-check", "vip")} <= labels
    assert ("vip-check", "default") in labels
    assert all(e.path.startswith("M") and " C" in e.path for e in layout.edges)
    shown = journey_layout(definition_parse(welcome()), label_text=str.upper)
    assert {e.text for e in shown.edges} >= {"OPENED", "TIMEOUT", "NEXT"}


def test_a_branch_that_rejoins_keeps_the_longest_path():
    parsed = definition_parse(
        definition(
            [
                branch("b", yes="w", default="end"),
                wait("w", "s"),
                send("s", "end"),
                exit_("end"),
            ]
        )
    )
    layout = _check_invariants(parsed)
    assert layout.by_id["end"].layer == 3  # after b → w → s, not right under b


def test_a_journey_without_steps_or_start_lays_out_empty_or_all_lost():
    assert journey_layout(definition_parse(definition([]))).nodes == []
    parsed = definition_parse({**definition([send("a"), send("b", "a")]), "start": None})
    layout = _check_invariants(parsed)
    assert all(n.unreachable for n in layout.nodes)


def test_a_self_loop_is_a_back_edge():
    parsed = definition_parse(
        definition([wait_outcomes("w", opened="w", timeout="end"), exit_("end")])
    )
    layout = _check_invariants(parsed)
    assert [(e.source, e.target) for e in layout.edges if e.back] == [("w", "w")]


def test_two_hundred_steps_lay_out_without_overlaps():
    parsed = definition_parse(large(200))
    layout = _check_invariants(parsed)
    assert len(layout.nodes) == 201
    assert layout.width < 1500  # the main path stays a column; it does not drift sideways


@pytest.mark.django_db
def test_two_hundred_steps_are_all_drawn():
    """How fast is measured in benchmarks/pages ("journey builder, 200 steps"), not here."""
    parsed = definition_parse(large(200))
    journey = Journey(pk=1, name="Large", draft=large(200))
    ctx = graph_context(journey, parsed, counts={"s0": {"entered": 5}}, editable=True)
    html = render_to_string("campaigns/journeys/_graph.html", {**ctx, "editable": True})
    assert html.count('class="jr-node ') == 201
