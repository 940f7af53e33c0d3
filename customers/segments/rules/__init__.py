"""The segment rule language: validate a JSON rule, compile it to one query, list what it reads.

The language is documented in docs/segments.md.
"""

from dataclasses import dataclass

from customers.segments.rules.compiler import rule_to_q
from customers.segments.rules.spec import RELATIVE_DATE_OPS
from customers.segments.rules.validation import RuleError, rule_validate

__all__ = ["RuleDependencies", "RuleError", "rule_dependencies", "rule_to_q", "rule_validate"]


@dataclass(frozen=True)
class RuleDependencies:
    """What a rule reads, so refreshes run when that data changes.

    kinds: subset of profile, attributes, consent, identities, rfm, clv, events, orders, segments,
    time ("time" when the rule uses relative dates, so it needs a periodic full refresh).
    """

    kinds: frozenset[str]
    event_names: frozenset[str]
    segment_ids: frozenset[int]


def rule_dependencies(rule: dict) -> RuleDependencies:
    """What a validated rule reads."""
    kinds: set[str] = set()
    event_names: set[str] = set()
    segment_ids: set[int] = set()

    def visit(node: dict) -> None:
        if "field" in node:
            kinds.add("attributes" if node["field"].startswith("attributes.") else "profile")
            if node["op"] in RELATIVE_DATE_OPS:
                kinds.add("time")
            return
        [(key, value)] = node.items()
        if key in ("all", "any"):
            for child in value:
                visit(child)
        elif key == "not":
            visit(value)
        elif key == "reachable":
            kinds.update(("identities", "consent"))
        elif key == "identity":
            kinds.add("identities")
        elif key in ("consent", "rfm", "clv"):
            kinds.add(key)
        elif key == "segment":
            kinds.add("segments")
            segment_ids.add(value)
        else:  # event, orders, bought
            kinds.add("events" if key == "event" else "orders")
            if key == "event":
                event_names.add(value["name"])
            if "within_days" in value:
                kinds.add("time")

    visit(rule)
    return RuleDependencies(
        kinds=frozenset(kinds),
        event_names=frozenset(event_names),
        segment_ids=frozenset(segment_ids),
    )
