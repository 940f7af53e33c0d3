"""The visual rule builder round-trips every rule of the language losslessly.

rule → rows → posted form → rows → rule gives back the same rule (same JSON, 1 is not 1.0 nor
true). Conditions the widgets can show become their own row kind; anything else a json row.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.segments import builder, builder_form
from customers.segments.builder import canonical, rule_to_tree
from customers.segments.builder_form import form_to_tree, tree_to_form
from customers.segments.rules import spec

ATTRIBUTES = {"city": "string", "income": "number", "vip": "bool", "joined": "date"}


def round_trip(rule):
    tree = rule_to_tree(rule, ATTRIBUTES)
    pairs = tree_to_form(tree)
    back, _paths, errors = builder.tree_to_rule(form_to_tree(pairs), ATTRIBUTES)
    return tree, back, errors


def row_types(tree):
    found = [tree.type]
    for child in tree.children:
        found += row_types(child)
    return found


# --- strategies over the rule vocabulary ------------------------------------------------------

# No NUL: PostgreSQL's jsonb cannot hold it, and every entry point refuses it (api.types.check_json).
texts = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=12)
line_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8
)
ints = st.integers(min_value=0, max_value=10**6)
numbers = ints | st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
dates = st.dates().map(lambda d: d.isoformat())
moments = dates | st.datetimes(timezones=st.just(None)).map(lambda d: d.isoformat() + "Z")


def one_or_many(strategy):
    return strategy | st.lists(strategy, min_size=1, max_size=3)


def comparison(values):
    return st.sampled_from(spec.NUMBER_COMPARISON_KEYS[:-1]).flatmap(
        lambda op: st.fixed_dictionaries({op: values})
    ) | st.fixed_dictionaries({"between": st.tuples(values, values).map(list)})


def field_conditions():
    def for_field(name, kind):
        ops = spec.OPS_BY_KIND[kind]
        scalar = {
            spec.STRING: texts,
            spec.CHOICE: st.sampled_from(spec.LIFECYCLE_STAGES),
            spec.NUMBER: numbers,
            spec.BOOL: st.booleans(),
            spec.DATE: dates,
            spec.DATETIME: moments,
        }[kind]
        item = line_texts if kind == spec.STRING else scalar

        def with_op(op):
            if op in spec.NO_VALUE_OPS:
                return st.just({"field": name, "op": op})
            if op in ("in", "not_in"):
                value = st.lists(item, min_size=1, max_size=3)
            elif op == "between":
                value = st.tuples(scalar, scalar).map(list)
            elif op == "age_between":
                value = st.tuples(ints, ints).map(list)
            elif op in ("in_last_days", "more_than_days_ago", "in_next_days"):
                value = ints
            elif op in ("contains", "starts_with"):
                value = texts
            else:
                value = scalar
            return value.map(lambda v: {"field": name, "op": op, "value": v})

        return st.sampled_from(ops).flatmap(with_op)

    fields = [*spec.PROFILE_FIELDS.items()] + [
        (f"attributes.{key}", kind) for key, kind in ATTRIBUTES.items()
    ]
    return st.sampled_from(fields).flatmap(lambda pair: for_field(*pair))


channels = st.sampled_from(spec.CHANNELS)
windows = st.sampled_from([{}, "days", "between"]).flatmap(
    lambda kind: (
        st.just({})
        if kind == {}
        else st.fixed_dictionaries({"within_days": ints})
        if kind == "days"
        else st.fixed_dictionaries({"between": st.tuples(moments, moments).map(list)})
    )
)


def with_window(base):
    return st.tuples(base, windows).map(lambda pair: {**pair[0], **pair[1]})


scalars = texts | numbers | st.booleans()
property_filters = st.one_of(
    st.builds(
        lambda p, op, v: {"property": p, "op": op, "value": v},
        texts,
        st.sampled_from(["equals", "not_equals", "gt", "gte", "lt", "lte", "contains"]),
        scalars,
    ),
    st.builds(
        lambda p, v: {"property": p, "op": "in", "value": v},
        texts,
        st.lists(line_texts, min_size=1, max_size=3) | st.lists(ints, min_size=1, max_size=3),
    ),
    st.builds(
        lambda p, op: {"property": p, "op": op},
        texts,
        st.sampled_from(spec.NO_VALUE_OPS),
    ),
)

conditions = st.one_of(
    field_conditions(),
    st.fixed_dictionaries(
        {"channel": channels},
        optional={"status": one_or_many(st.sampled_from(spec.CONSENT_STATUSES))},
    ).map(lambda v: {"consent": v}),
    channels.map(lambda c: {"reachable": c}),
    channels.map(lambda c: {"identity": c}),
    st.fixed_dictionaries(
        {},
        optional={
            "segment": one_or_many(st.sampled_from(spec.RFM_SEGMENTS)),
            **{key: comparison(st.integers(1, 5)) for key in spec.RFM_SCORE_KEYS},
            "recency_days": comparison(ints),
            "frequency": comparison(ints),
            "monetary": comparison(numbers),
        },
    ).map(lambda v: {"rfm": v}),
    with_window(
        st.fixed_dictionaries(
            {"name": texts},
            optional={
                "performed": st.booleans(),
                "where": st.lists(property_filters, max_size=3),
                "count": comparison(ints),
            },
        )
    ).map(lambda v: {"event": v}),
    with_window(
        st.fixed_dictionaries(
            {"count": comparison(ints)},
            optional={"sum": comparison(numbers), "average": comparison(numbers)},
        )
    ).map(lambda v: {"orders": v}),
    with_window(
        st.sampled_from(["sku", "category"]).flatmap(
            lambda by: st.fixed_dictionaries({by: one_or_many(line_texts)})
        )
    ).map(lambda v: {"bought": v}),
    st.integers(1, 10**6).map(lambda i: {"segment": i}),
)

rules = st.recursive(
    conditions,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda c: {"all": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules)
def test_every_rule_round_trips_through_the_builder_form(rule):
    _tree, back, errors = round_trip(rule)
    assert not errors
    assert canonical(back) == canonical(rule)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | numbers | texts,
        lambda c: st.lists(c) | st.dictionaries(texts, c),
        max_leaves=6,
    )
)
def test_even_a_shapeless_rule_comes_back_unchanged(rule):
    """A stored rule that is not valid (an old one, say) is kept as a json row, not mangled."""
    _tree, back, _errors = round_trip(rule)
    assert canonical(back) == canonical(rule)


# --- every kind of condition gets its own row, not a json row ----------------------------------

EVERY_KIND = [
    ({"field": "first_name", "op": "equals", "value": "Anna"}, "field"),
    ({"field": "email", "op": "in", "value": ["a@example.com", "b@example.com"]}, "field"),
    ({"field": "email", "op": "is_set"}, "field"),
    ({"field": "lifecycle_stage", "op": "not_in", "value": ["lead", "churned"]}, "field"),
    ({"field": "birth_date", "op": "age_between", "value": [18, 25]}, "field"),
    ({"field": "birth_date", "op": "in_next_days", "value": 7}, "field"),
    ({"field": "birth_date", "op": "between", "value": ["1990-01-01", "1999-12-31"]}, "field"),
    ({"field": "created_at", "op": "in_last_days", "value": 30}, "field"),
    ({"field": "created_at", "op": "more_than_days_ago", "value": 90}, "field"),
    ({"field": "updated_at", "op": "gt", "value": "2026-03-01T10:00:00+03:00"}, "field"),
    ({"field": "attributes.income", "op": "gte", "value": 40000}, "field"),
    ({"field": "attributes.income", "op": "between", "value": [1.5, 2]}, "field"),
    ({"field": "attributes.vip", "op": "equals", "value": True}, "field"),
    ({"field": "attributes.joined", "op": "in_next_days", "value": 3}, "field"),
    ({"field": "attributes.city", "op": "contains", "value": "Mos"}, "field"),
    ({"consent": {"channel": "email", "status": "opted_in"}}, "consent"),
    ({"consent": {"channel": "sms", "status": ["opted_in", "unknown"]}}, "consent"),
    ({"consent": {"channel": "sms", "status": ["opted_out"]}}, "consent"),
    ({"reachable": "telegram"}, "reachable"),
    ({"identity": "whatsapp"}, "identity"),
    ({"rfm": {}}, "rfm"),
    ({"rfm": {"segment": ["champions", "loyal_customers"], "r": {"gte": 4}}}, "rfm"),
    ({"rfm": {"f": {"between": [2, 5]}, "m": {"lte": 3}, "monetary": {"gt": 99.5}}}, "rfm"),
    ({"rfm": {"recency_days": {"lt": 30}, "frequency": {"equals": 1}}}, "rfm"),
    (
        {
            "event": {
                "name": "add_to_cart",
                "performed": True,
                "where": [
                    {"property": "category", "op": "equals", "value": "Video cards"},
                    {"property": "price", "op": "gte", "value": 100},
                    {"property": "tags", "op": "in", "value": ["a", "b"]},
                    {"property": "gift", "op": "equals", "value": False},
                    {"property": "coupon", "op": "is_not_set"},
                ],
                "count": {"gte": 2},
                "within_days": 30,
            }
        },
        "event",
    ),
    ({"event": {"name": "email_opened", "performed": False, "within_days": 60}}, "event"),
    ({"event": {"name": "login", "between": ["2026-01-01", "2026-02-01T00:00:00Z"]}}, "event"),
    ({"event": {"name": "login", "where": []}}, "event"),
    ({"orders": {"count": {"gte": 3}, "sum": {"gte": 10000}, "average": {"lt": 500}}}, "orders"),
    ({"orders": {"count": {"equals": 0}, "within_days": 30}}, "orders"),
    ({"bought": {"sku": ["GPU-1", "GPU-2"]}}, "bought"),
    ({"bought": {"category": "Electronics / *", "within_days": 180}}, "bought"),
    ({"bought": {"category": ["A"]}}, "bought"),
    ({"segment": 12}, "segment"),
]


@pytest.mark.parametrize(("rule", "row"), EVERY_KIND, ids=lambda v: json.dumps(v)[:60])
def test_each_condition_kind_has_its_own_row_and_round_trips(rule, row):
    tree, back, errors = round_trip(rule)
    assert not errors
    assert canonical(back) == canonical(rule)
    assert tree.get("bare") == "1"
    [child] = tree.children
    assert child.type == row


def test_groups_nest_and_keep_their_kind():
    rule = {
        "all": [
            {"any": [{"reachable": "sms"}, {"not": {"all": [{"identity": "email"}]}}]},
            {"not": {"rfm": {"segment": "lost"}}},
            {"all": []},
        ]
    }
    tree, back, _errors = round_trip(rule)
    assert canonical(back) == canonical(rule)
    assert "json" not in row_types(tree)
    assert [c.get("op") for c in tree.children] == ["any", "not", "all"]


def test_a_condition_the_widgets_cannot_show_is_a_json_row():
    rule = {"rfm": {"r": {"gte": 2, "lte": 4}}}  # two comparisons on one score
    tree, back, _errors = round_trip(rule)
    assert tree.children[0].type == "json"
    assert canonical(back) == canonical(rule)


def test_a_not_group_with_two_rows_is_a_builder_error():
    root = rule_to_tree({"not": {"reachable": "sms"}})
    root.children.append(rule_to_tree({"identity": "sms"}).children[0])
    _rule, _paths, errors = builder.tree_to_rule(root)
    assert errors == [{"node": root.id, "message": "exactly_one"}]


def test_rule_errors_land_on_the_row_they_concern():
    rule = {
        "all": [{"reachable": "sms"}, {"any": [{"field": "first_name", "op": "gt", "value": 1}]}]
    }
    tree = rule_to_tree(rule)
    _rule, paths, _errors = builder.tree_to_rule(tree)
    builder_form.attach_errors(tree, paths, [{"path": "all[1].any[0].op", "message": "bad"}])
    field_row = tree.children[1].children[0]
    assert field_row.errors == [{"path": "all[1].any[0].op", "message": "bad"}]
    assert not tree.errors and not tree.children[0].errors


def test_numbers_typed_in_the_form_become_numbers():
    assert builder.parse_number("3") == 3
    assert builder.parse_number("2.5") == 2.5
    assert builder.parse_number(" ") is None
    assert builder.parse_number("three") == "three"
    assert builder.parse_number("inf") == "inf"


def test_a_line_break_in_a_one_line_value_keeps_the_condition_as_json():
    rule = {"field": "first_name", "op": "equals", "value": "An\nna"}
    tree, back, _errors = round_trip(rule)
    assert tree.children[0].type == "json"
    assert canonical(back) == canonical(rule)


@pytest.mark.parametrize(
    "rule",
    [
        {"consent": {"channel": "email", "status": ["opted_in", "opted_in"]}},  # twice
        {"consent": {"channel": "email", "status": ["unknown", "opted_in"]}},  # not page order
        {"rfm": {"segment": ["lost", "champions"]}},
        {"field": "first_name", "op": "gt", "value": "a"},  # not an operator of text
        {"field": "birth_date", "op": "equals", "value": "yesterday"},  # a date input drops it
        {"field": "lifecycle_stage", "op": "equals", "value": "vip"},  # not an option
        {"reachable": "pigeon"},
        {"event": {"name": "x", "where": [{"property": "p", "op": "starts_with", "value": "a"}]}},
    ],
    ids=lambda v: json.dumps(v)[:50],
)
def test_a_value_a_widget_cannot_post_back_keeps_the_condition_as_json(rule):
    tree, back, _errors = round_trip(rule)
    assert tree.children[0].type == "json"
    assert canonical(back) == canonical(rule)
