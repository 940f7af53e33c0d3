"""The visual rule builder's model: a segment rule as a tree of form rows, and back.

A rule becomes a tree of `Node`s: groups (`all` / `any` / `not`) holding rows, and one row per
condition. Each node keeps its values exactly as the form posts them (strings, or lists of strings
for checkboxes), so the page renders a node from `node.values` and reads it back from the POST
with no second model in between:

    rule_to_tree(rule)        rule → nodes (a condition the widgets cannot show exactly becomes
                              a "json" row holding that condition's JSON, so nothing is lost)
    tree_to_form(root)        nodes → form data, as the page posts it
    form_to_tree(data)        form data → nodes
    tree_to_rule(root)        nodes → (rule, where each node sits in the rule, builder errors)

The form side (tree_to_form, form_to_tree, blank rows, errors on rows) is in builder_form.py.
"""

import json
import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from customers.segments.rules import spec

GROUP = "group"
JSON_ROW = "json"
CONDITION_TYPES = (
    "field",
    "consent",
    "reachable",
    "identity",
    "rfm",
    "clv",
    "event",
    "orders",
    "bought",
    "segment",
)
NODE_TYPES = (GROUP, *CONDITION_TYPES, JSON_ROW)
GROUP_OPS = ("all", "any", "not")
COMPARISON_OPS = spec.NUMBER_COMPARISON_KEYS
RFM_COMPARISONS = (*spec.RFM_SCORE_KEYS, *spec.RFM_NUMBER_KEYS)
ORDER_COMPARISONS = spec.ORDERS_MEASURES
CLV_COMPARISONS = spec.CLV_KEYS
LIST_OPS = ("in", "not_in")
PAIR_OPS = ("between", "age_between")
DAYS_OPS = ("in_last_days", "more_than_days_ago", "in_next_days")
VALUE_TYPES = ("text", "number", "bool")

_ID = re.compile(r"^n[0-9a-z]{1,16}$")
_INT = re.compile(r"^-?\d+$")

Values = dict[str, Any]  # name → str, or list[str] for multiple choices


@dataclass
class Node:
    id: str
    type: str
    values: Values = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)  # {"path", "message"}

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return value if isinstance(value, str) else default

    def getlist(self, name: str) -> list[str]:
        value = self.values.get(name, [])
        return value if isinstance(value, list) else [value]

    @property
    def where(self) -> list[dict[str, str]]:
        """An event row's property filters, for the template."""
        return [
            {
                "key": key,
                **{
                    name: self.get(f"w{key}_{name}") for name in ("property", "op", "type", "value")
                },
            }
            for key in self.getlist("where")
        ]


def new_id() -> str:
    return "n" + secrets.token_hex(4)


def canonical(value: Any) -> str:
    """JSON that tells 1 from 1.0 from true, for "is this exactly the same rule"."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --- Scalars as form text, and back -------------------------------------------------------------


def number_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def parse_number(text: str) -> Any:
    """An int for whole-number text, a float for other finite numbers; the text itself otherwise
    (the rule checker then says what is wrong); None when blank."""
    if text.strip() == "":
        return None
    if _INT.match(text.strip()):
        return int(text.strip())
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _kind_of(field_name: str, attribute_types: dict[str, str]) -> str | None:
    if field_name.startswith(spec.ATTRIBUTE_PREFIX):
        return attribute_types.get(field_name.removeprefix(spec.ATTRIBUTE_PREFIX))
    return spec.PROFILE_FIELDS.get(field_name)


def _scalar_text(kind: str | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.is_number(value):
        return number_text(value)
    return value if isinstance(value, str) else canonical(value)


def _scalar_value(kind: str | None, text: str) -> Any:
    if kind == spec.NUMBER:
        return parse_number(text)
    if kind == spec.BOOL:
        return {"true": True, "false": False}.get(text)
    if text == "" and kind in (spec.DATE, spec.DATETIME, spec.CHOICE):
        return None
    return text


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line != ""]


# --- rule → tree --------------------------------------------------------------------------------


class _Ids:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"n{self.count}"


def rule_to_tree(rule: Any, attribute_types: dict[str, str] | None = None) -> Node:
    """The tree for a stored rule; the root is always a group."""
    types = attribute_types or {}
    ids = _Ids()
    root = _node(rule, types, ids, is_root=True)
    if root.type != GROUP:
        # A rule that is one condition: an `all` group marked bare, which gives back the condition
        # alone while it holds one row.
        root = Node(ids(), GROUP, {"op": "all", "bare": "1"}, [root])
    return root


def _node(rule: Any, types: dict[str, str], ids: _Ids, *, is_root: bool = False) -> Node:
    if isinstance(rule, dict) and len(rule) == 1:
        [(key, value)] = rule.items()
        if key in ("all", "any") and isinstance(value, list):
            return Node(ids(), GROUP, {"op": key}, [_node(c, types, ids) for c in value])
        if key == "not":
            return Node(ids(), GROUP, {"op": "not"}, [_node(value, types, ids)])
    node = _condition_node(rule, types, ids())
    if node is not None:
        back, _paths, errors = tree_to_rule(node, types)
        if not errors and canonical(back) == canonical(rule) and _fits_inputs(node, types):
            return node
    return Node(
        node.id if node else ids(), JSON_ROW, {"json": json.dumps(rule, ensure_ascii=False)}
    )


_MULTILINE = ("values", "items")


def _fits_inputs(node: Node, types: dict[str, str]) -> bool:
    """Whether a browser gives the values back as they are: a one-line input drops line breaks,
    a select posts one of its options, checkboxes post their values once each in page order,
    a date input empties a value that is not a date."""
    for name, value in node.values.items():
        multiline = name in _MULTILINE or (name.startswith("w") and name.endswith("_value"))
        for item in value if isinstance(value, list) else [value]:
            if not multiline and ("\n" in item or "\r" in item):
                return False
    return all(check(node, types) for check in _SELECT_CHECKS.get(node.type, ()))


def _checkboxes(name: str, vocabulary: tuple[str, ...]):
    def check(node: Node, _types) -> bool:
        items = node.getlist(name)
        return all(item in vocabulary for item in items) and items == [
            v for v in vocabulary if v in items
        ]

    return check


def _select(name: str, vocabulary: tuple[str, ...]):
    return lambda node, _types: node.get(name) in vocabulary


def _field_fits(node: Node, types: dict[str, str]) -> bool:
    kind = _kind_of(node.get("field"), types) or spec.STRING
    op = node.get("op")
    if op not in spec.OPS_BY_KIND[kind]:
        return False
    date_input = kind == spec.DATE and op in (
        "equals",
        "not_equals",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
    )
    for name in ("value", "value2"):
        if name not in node.values or op in LIST_OPS:
            continue
        if date_input and spec.parse_date(node.get(name)) is None:
            return False
        choice = kind == spec.CHOICE and op in ("equals", "not_equals")
        if choice and node.get(name) not in spec.LIFECYCLE_STAGES:
            return False
    return True


def _comparisons_fit(names: tuple[str, ...]):
    def check(node: Node, _types) -> bool:
        return all(node.get(f"{n}_op") in ("", *COMPARISON_OPS) for n in names)

    return check


def _where_fits(node: Node, _types) -> bool:
    return all(item["op"] in spec.PROPERTY_OPS for item in node.where)


_SELECT_CHECKS = {
    "field": (_field_fits,),
    "consent": (_select("channel", spec.CHANNELS), _checkboxes("status", spec.CONSENT_STATUSES)),
    "reachable": (_select("channel", spec.CHANNELS),),
    "identity": (_select("channel", spec.CHANNELS),),
    "rfm": (_checkboxes("segment", spec.RFM_SEGMENTS), _comparisons_fit(RFM_COMPARISONS)),
    "event": (_where_fits, _comparisons_fit(("count",))),
    "orders": (_comparisons_fit(ORDER_COMPARISONS),),
    "clv": (_comparisons_fit(CLV_COMPARISONS),),
}


def _condition_node(rule: Any, types: dict[str, str], node_id: str) -> Node | None:
    """The row for one condition, or None when it has no row of its own (then a json row)."""
    if not isinstance(rule, dict):
        return None
    if "field" in rule:
        return _field_node(rule, types, node_id)
    if len(rule) != 1:
        return None
    [(key, value)] = rule.items()
    values: Values = {}
    if key in ("reachable", "identity"):
        values["channel"] = value if isinstance(value, str) else ""
    elif key == "segment":
        values["segment"] = number_text(value) if spec.is_int(value) else ""
    elif not isinstance(value, dict):
        return None
    elif key == "consent":
        values["channel"] = _text(value.get("channel"))
        _one_or_many(values, "status", value.get("status"))
    elif key == "rfm":
        _one_or_many(values, "segment", value.get("segment"))
        for name in RFM_COMPARISONS:
            _comparison(values, name, value.get(name))
    elif key == "clv":
        for name in CLV_COMPARISONS:
            _comparison(values, name, value.get(name))
    elif key == "event":
        _event_values(values, value)
    elif key == "orders":
        for name in ORDER_COMPARISONS:
            _comparison(values, name, value.get(name))
        _window(values, value)
    elif key == "bought":
        by = "category" if "category" in value else "sku"
        values["by"] = by
        items = value.get(by)
        values["items"] = "\n".join(
            _text(i) for i in (items if isinstance(items, list) else [items])
        )
        values["items_many"] = "1" if isinstance(items, list) else ""
        _window(values, value)
    else:
        return None
    return Node(node_id, key, values)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _scalar_text(None, value)


def _field_node(rule: dict, types: dict[str, str], node_id: str) -> Node:
    name, op, value = rule.get("field"), rule.get("op"), rule.get("value")
    kind = _kind_of(name, types) if isinstance(name, str) else None
    values: Values = {"field": _text(name), "op": _text(op)}
    if op in LIST_OPS and isinstance(value, list):
        values["values"] = "\n".join(_scalar_text(kind, item) for item in value)
    elif op in PAIR_OPS and isinstance(value, list) and len(value) == 2:
        values["value"], values["value2"] = (_scalar_text(kind, item) for item in value)
    elif "value" in rule:
        values["value"] = _scalar_text(kind, value)
    return Node(node_id, "field", values)


def _one_or_many(values: Values, name: str, value: Any) -> None:
    if value is None:
        values[name] = []
        return
    items = value if isinstance(value, list) else [value]
    values[name] = [_text(item) for item in items]
    values[f"{name}_many"] = "1" if isinstance(value, list) else ""


def _comparison(values: Values, name: str, value: Any) -> None:
    if not isinstance(value, dict) or len(value) != 1:
        if value is not None:
            values[f"{name}_op"] = "?"  # several keys: not shown by the widgets (a json row)
        return
    [(op, operand)] = value.items()
    values[f"{name}_op"] = op
    if op == "between" and isinstance(operand, list) and len(operand) == 2:
        values[f"{name}_v"], values[f"{name}_v2"] = (_scalar_text(None, v) for v in operand)
    else:
        values[f"{name}_v"] = _scalar_text(None, operand)


def _window(values: Values, value: dict) -> None:
    if "within_days" in value:
        values["window"] = "days"
        values["within_days"] = _scalar_text(None, value["within_days"])
    elif "between" in value:
        values["window"] = "between"
        span = value["between"] if isinstance(value["between"], list) else ["", ""]
        values["from"], values["to"] = (_text(v) for v in [*span, "", ""][:2])
    else:
        values["window"] = ""


def _event_values(values: Values, value: dict) -> None:
    values["name"] = _text(value.get("name"))
    values["performed"] = "did_not" if value.get("performed") is False else "did"
    values["performed_key"] = "1" if "performed" in value else ""
    keys = []
    for index, item in enumerate(value.get("where") or []):
        if not isinstance(item, dict):
            continue
        key = str(index + 1)
        keys.append(key)
        operand = item.get("value")
        sample = operand[0] if isinstance(operand, list) and operand else operand
        if isinstance(sample, bool):
            kind = "bool"
        elif spec.is_number(sample):
            kind = "number"
        else:
            kind = "text"
        values[f"w{key}_property"] = _text(item.get("property"))
        values[f"w{key}_op"] = _text(item.get("op"))
        values[f"w{key}_type"] = kind
        if isinstance(operand, list):
            values[f"w{key}_value"] = "\n".join(_scalar_text(None, v) for v in operand)
        elif "value" in item:
            values[f"w{key}_value"] = _scalar_text(None, operand)
    values["where"] = keys
    values["where_key"] = "1" if "where" in value else ""
    _comparison(values, "count", value.get("count"))
    _window(values, value)


# --- tree → rule --------------------------------------------------------------------------------


def tree_to_rule(
    root: Node, attribute_types: dict[str, str] | None = None
) -> tuple[Any, list[tuple[str, str]], list[dict[str, str]]]:
    """The rule, [(path in the rule, node id)] and problems only the builder sees (each with the
    node id as `node`)."""
    types = attribute_types or {}
    paths: list[tuple[str, str]] = []
    errors: list[dict[str, str]] = []
    rule = _rule(root, "", types, paths, errors)
    return rule, paths, errors


def _rule(node: Node, path: str, types, paths, errors) -> Any:
    paths.append((path, node.id))
    if node.type == GROUP:
        op = node.get("op", "all")
        if op == "not":
            if len(node.children) != 1:
                errors.append({"node": node.id, "message": "exactly_one"})
                children = [_rule(c, f"{path}.not", types, paths, errors) for c in node.children]
                return {"not": {"all": children}}
            return {
                "not": _rule(node.children[0], spec.path_join(path, "not"), types, paths, errors)
            }
        if op not in ("all", "any"):
            op = "all"
        if node.get("bare") and op == "all" and len(node.children) == 1:
            return _rule(node.children[0], path, types, paths, errors)
        base = spec.path_join(path, op)
        return {
            op: [
                _rule(child, spec.path_join(base, index), types, paths, errors)
                for index, child in enumerate(node.children)
            ]
        }
    if node.type == JSON_ROW:
        try:
            return json.loads(node.get("json"))
        except ValueError as exc:
            errors.append({"node": node.id, "message": f"json:{exc}"})
            return None
    if node.type == "field":
        return _field_rule(node, types)
    return {node.type: _CONDITIONS[node.type](node)}


def _field_rule(node: Node, types: dict[str, str]) -> dict:
    name, op = node.get("field"), node.get("op")
    kind = _kind_of(name, types)
    rule: dict[str, Any] = {"field": name, "op": op}
    if op in spec.NO_VALUE_OPS:
        return rule
    if op in LIST_OPS:
        rule["value"] = [_scalar_value(kind, line) for line in _lines(node.get("values"))]
    elif op == "age_between":
        rule["value"] = [parse_number(node.get("value")), parse_number(node.get("value2"))]
    elif op == "between":
        rule["value"] = [_scalar_value(kind, node.get(n)) for n in ("value", "value2")]
    elif op in DAYS_OPS:
        rule["value"] = parse_number(node.get("value"))
    else:
        rule["value"] = _scalar_value(kind, node.get("value"))
    return rule


def _many(node: Node, name: str) -> Any:
    items = node.getlist(name)
    return items[0] if len(items) == 1 and not node.get(f"{name}_many") else items


def _comparison_rule(node: Node, name: str, out: dict) -> None:
    op = node.get(f"{name}_op")
    if not op:
        return
    if op == "between":
        out[name] = {
            op: [parse_number(node.get(f"{name}_v")), parse_number(node.get(f"{name}_v2"))]
        }
    else:
        out[name] = {op: parse_number(node.get(f"{name}_v"))}


def _window_rule(node: Node, out: dict) -> dict:
    window = node.get("window")
    if window == "days":
        out["within_days"] = parse_number(node.get("within_days"))
    elif window == "between":
        out["between"] = [node.get("from"), node.get("to")]
    return out


def _consent(node: Node) -> dict:
    out: dict[str, Any] = {"channel": node.get("channel")}
    if node.getlist("status") or node.get("status_many"):
        out["status"] = _many(node, "status")
    return out


def _rfm(node: Node) -> dict:
    out: dict[str, Any] = {}
    if node.getlist("segment") or node.get("segment_many"):
        out["segment"] = _many(node, "segment")
    for name in RFM_COMPARISONS:
        _comparison_rule(node, name, out)
    return out


def _event(node: Node) -> dict:
    out: dict[str, Any] = {"name": node.get("name")}
    if node.get("performed") == "did_not":
        out["performed"] = False
    elif node.get("performed_key"):
        out["performed"] = True
    where = []
    for item in node.where:
        if item["property"] == "" and item["value"] == "":
            continue  # a blank filter row
        condition: dict[str, Any] = {"property": item["property"], "op": item["op"]}
        kind = {"number": spec.NUMBER, "bool": spec.BOOL}.get(item["type"], spec.STRING)
        if item["op"] == "in":
            condition["value"] = [_scalar_value(kind, v) for v in _lines(item["value"])]
        elif item["op"] not in spec.NO_VALUE_OPS:
            condition["value"] = _scalar_value(kind, item["value"])
        where.append(condition)
    if where or node.get("where_key"):
        out["where"] = where
    _comparison_rule(node, "count", out)
    return _window_rule(node, out)


def _orders(node: Node) -> dict:
    out: dict[str, Any] = {}
    for name in ORDER_COMPARISONS:
        _comparison_rule(node, name, out)
    return _window_rule(node, out)


def _clv(node: Node) -> dict:
    out: dict[str, Any] = {}
    for name in CLV_COMPARISONS:
        _comparison_rule(node, name, out)
    return out


def _bought(node: Node) -> dict:
    by = node.get("by") if node.get("by") in ("sku", "category") else "sku"
    items = _lines(node.get("items"))
    out: dict[str, Any] = {
        by: items[0] if len(items) == 1 and not node.get("items_many") else items
    }
    return _window_rule(node, out)


def _channel(node: Node) -> str:
    return node.get("channel")


def _segment(node: Node) -> Any:
    return parse_number(node.get("segment"))


_CONDITIONS = {
    "consent": _consent,
    "reachable": _channel,
    "identity": _channel,
    "rfm": _rfm,
    "clv": _clv,
    "event": _event,
    "orders": _orders,
    "bought": _bought,
    "segment": _segment,
}
