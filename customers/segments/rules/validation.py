"""Checking a rule before it is stored: every problem, each with the JSON path it sits at."""

from collections.abc import Callable
from typing import Any

from api.types import InvalidJson, check_json
from customers.models import AttributeDefinition, Segment
from customers.segments.rules import spec
from customers.segments.rules.spec import path_join


class RuleError(Exception):
    """A rule that cannot be used; `errors` lists every problem as {"path", "message"}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path'] or '(rule)'}: {e['message']}" for e in errors))
        self.errors = errors


def rule_validate(rule: Any, *, segment_id: int | None = None) -> None:
    """Raise RuleError unless `rule` is a usable rule for the segment `segment_id` (None: new)."""
    try:  # the API's schema checks this too; staff in the admin reach here directly
        check_json(rule)
    except InvalidJson as exc:
        raise RuleError([{"path": exc.path, "message": exc.message}]) from None
    checker = _Checker()
    checker.rule(rule, "", depth=0)
    checker.segment_references(segment_id)
    if checker.errors:
        raise RuleError(checker.errors)


def referenced_segment_ids(rule: Any) -> list[int]:
    """Segment ids a rule refers to, tolerating any shape (stored rules are trusted loosely)."""
    if not isinstance(rule, dict):
        return []
    found = []
    for key, value in rule.items():
        if key == "segment" and spec.is_int(value):
            found.append(value)
        elif key in ("all", "any") and isinstance(value, list):
            for child in value:
                found.extend(referenced_segment_ids(child))
        elif key == "not":
            found.extend(referenced_segment_ids(value))
    return found


def _quoted(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(names)


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.segment_refs: list[tuple[str, int]] = []
        self._attribute_types: dict[str, str] | None = None

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def attribute_types(self) -> dict[str, str]:
        if self._attribute_types is None:
            self._attribute_types = dict(AttributeDefinition.objects.values_list("key", "type"))
        return self._attribute_types

    # --- structure ---------------------------------------------------------------------------

    def rule(self, rule: Any, path: str, *, depth: int) -> None:
        if depth > spec.MAX_DEPTH:
            self.error(path, f"rules nest at most {spec.MAX_DEPTH} levels deep")
            return
        if not isinstance(rule, dict):
            self.error(path, 'must be an object, such as {"all": [...]} or {"field": ...}')
            return
        if "field" in rule:
            self.field(rule, path)
            return
        if len(rule) != 1:
            found = ", ".join(repr(key) for key in rule) or "no keys"
            self.error(
                path,
                f"must have exactly one key ({_quoted(spec.GROUP_KEYS + spec.CONDITION_KEYS)}); "
                f"found {found}",
            )
            return
        [(key, value)] = rule.items()
        child_path = path_join(path, key)
        if key in ("all", "any"):
            if not isinstance(value, list):
                self.error(child_path, "must be a list of rules")
            elif key == "any" and not value:
                self.error(child_path, "needs at least one rule")
            else:
                for index, child in enumerate(value):
                    self.rule(child, path_join(child_path, index), depth=depth + 1)
        elif key == "not":
            self.rule(value, child_path, depth=depth + 1)
        elif key in ("reachable", "identity"):
            self.channel(value, child_path)
        elif key in self._conditions:
            self._conditions[key](self, value, child_path)
        else:
            self.error(
                path,
                f"unknown rule kind '{key}'; use one of: "
                f"{_quoted(spec.GROUP_KEYS + spec.CONDITION_KEYS)}",
            )

    def known_keys(self, value: Any, path: str, keys: tuple[str, ...], example: str) -> bool:
        """Whether value is an object of known keys; reports what is wrong when not."""
        if not isinstance(value, dict):
            self.error(path, f"must be an object, such as {example}")
            return False
        for key in value:
            if key not in keys:
                self.error(path_join(path, key), f"unknown key; use: {_quoted(keys)}")
        return True

    # --- profile fields and attributes ---------------------------------------------------------

    def field(self, rule: dict, path: str) -> None:
        for key in rule:
            if key not in ("field", "op", "value"):
                self.error(
                    path_join(path, key), "unknown key; a field condition has field, op, value"
                )
        name = rule["field"]
        field_path = path_join(path, "field")
        if not isinstance(name, str):
            self.error(field_path, "must be a field name")
            return
        if name.startswith(spec.ATTRIBUTE_PREFIX):
            key = name.removeprefix(spec.ATTRIBUTE_PREFIX)
            kind = self.attribute_types().get(key)
            if kind is None:
                self.error(
                    field_path,
                    f"'{name}' is not a defined attribute; staff define attributes in the admin",
                )
                return
            if "__" in key:
                self.error(field_path, "attributes whose key contains '__' cannot be used in rules")
                return
        elif name in spec.PROFILE_FIELDS:
            kind = spec.PROFILE_FIELDS[name]
        else:
            self.error(
                field_path,
                f"unknown field '{name}'; use one of: {_quoted(list(spec.PROFILE_FIELDS))} "
                "or attributes.<key>",
            )
            return
        op = rule.get("op")
        op_path = path_join(path, "op")
        if op is None:
            self.error(op_path, "is required")
            return
        if not isinstance(op, str) or op not in spec.ALL_FIELD_OPS:
            self.error(
                op_path, f"unknown operator {op!r}; use one of: {_quoted(spec.OPS_BY_KIND[kind])}"
            )
            return
        if op not in spec.OPS_BY_KIND[kind]:
            self.error(
                op_path,
                f"'{op}' does not apply to {name}, {spec.KIND_LABELS[kind]}; "
                f"use one of: {_quoted(spec.OPS_BY_KIND[kind])}",
            )
            return
        self.field_value(kind, op, rule, path_join(path, "value"))

    def field_value(self, kind: str, op: str, rule: dict, path: str) -> None:
        value = rule.get("value")
        if op in spec.NO_VALUE_OPS:
            if value is not None:
                self.error(path, f"'{op}' takes no value")
            return
        if value is None:
            self.error(path, "is required")
            return

        def scalar(item: Any, item_path: str) -> bool:
            return self.scalar(kind, item, item_path)

        if op in ("equals", "not_equals", "gt", "gte", "lt", "lte"):
            scalar(value, path)
        elif op in ("in", "not_in"):
            self.items(value, path, scalar)
        elif op in ("contains", "starts_with"):
            if not isinstance(value, str) or not value:
                self.error(path, "must be a non-empty string")
        elif op == "between":
            self.pair(value, path, scalar, order_key=_order_key(kind))
        elif op == "age_between":
            self.pair(value, path, self.whole_number(0, spec.MAX_AGE_YEARS), order_key=float)
        else:  # the days of in_last_days, more_than_days_ago, in_next_days
            self.whole_number(0, spec.MAX_DAYS)(value, path)

    def scalar(self, kind: str, value: Any, path: str) -> bool:
        problem = None
        if kind == spec.STRING and not isinstance(value, str):
            problem = "must be a string"
        elif kind == spec.STRING and len(value) > spec.MAX_STRING_LENGTH:
            problem = f"must be at most {spec.MAX_STRING_LENGTH} characters"
        elif kind == spec.CHOICE and value not in spec.LIFECYCLE_STAGES:
            problem = f"must be one of: {_quoted(spec.LIFECYCLE_STAGES)}"
        elif kind == spec.NUMBER and not spec.is_number(value):
            problem = "must be a number"
        elif kind == spec.BOOL and not isinstance(value, bool):
            problem = "must be true or false"
        elif kind == spec.DATE and spec.parse_date(value) is None:
            problem = "must be a date as YYYY-MM-DD"
        elif kind == spec.DATETIME and spec.parse_moment(value) is None:
            problem = "must be a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM:SSZ)"
        if problem:
            self.error(path, problem)
        return problem is None

    # --- shared value shapes -----------------------------------------------------------------

    def items(self, value: Any, path: str, check: Callable[[Any, str], bool]) -> None:
        if not isinstance(value, list) or not value:
            self.error(path, "must be a non-empty list")
        elif len(value) > spec.MAX_LIST_ITEMS:
            self.error(path, f"must have at most {spec.MAX_LIST_ITEMS} items")
        else:
            for index, item in enumerate(value):
                check(item, path_join(path, index))

    def pair(
        self,
        value: Any,
        path: str,
        check: Callable[[Any, str], bool],
        *,
        order_key: Callable[[Any], Any],
    ) -> None:
        if not isinstance(value, list) or len(value) != 2:
            self.error(path, "must be a list of two values [low, high]")
            return
        valid = [check(item, path_join(path, index)) for index, item in enumerate(value)]
        if all(valid) and order_key(value[0]) > order_key(value[1]):
            self.error(path, "low must not be greater than high")

    def whole_number(self, low: int, high: int) -> Callable[[Any, str], bool]:
        def check(value: Any, path: str) -> bool:
            if not spec.is_int(value) or not low <= value <= high:
                self.error(path, f"must be a whole number from {low} to {high}")
                return False
            return True

        return check

    def number(self, value: Any, path: str) -> bool:
        if not spec.is_number(value) or value < 0:
            self.error(path, "must be a number, 0 or more")
            return False
        return True

    def comparison(self, value: Any, path: str, check: Callable[[Any, str], bool]) -> None:
        """A comparison object such as {"gte": 2} or {"between": [2, 5]}; keys combine with AND."""
        if not isinstance(value, dict) or not value:
            self.error(path, 'must be an object such as {"gte": 2} or {"between": [1, 3]}')
            return
        for key, item in value.items():
            item_path = path_join(path, key)
            if key not in spec.NUMBER_COMPARISON_KEYS:
                self.error(
                    item_path, f"unknown comparison; use: {_quoted(spec.NUMBER_COMPARISON_KEYS)}"
                )
            elif key == "between":
                self.pair(item, item_path, check, order_key=float)
            else:
                check(item, item_path)

    def channel(self, value: Any, path: str) -> None:
        if value not in spec.CHANNELS:
            self.error(path, f"unknown channel {value!r}; use one of: {_quoted(spec.CHANNELS)}")

    def window(self, value: dict, path: str) -> None:
        if "within_days" in value and "between" in value:
            self.error(path, "give either within_days or between, not both")
        if "within_days" in value:
            self.whole_number(1, spec.MAX_DAYS)(
                value["within_days"], path_join(path, "within_days")
            )
        if "between" in value:
            self.pair(
                value["between"],
                path_join(path, "between"),
                lambda item, item_path: self.scalar(spec.DATETIME, item, item_path),
                order_key=lambda item: spec.parse_moment(item)[0],
            )

    def one_or_many(self, value: Any, path: str, check: Callable[[Any, str], bool]) -> None:
        if isinstance(value, list):
            self.items(value, path, check)
        else:
            check(value, path)

    def non_empty_string(self, value: Any, path: str) -> bool:
        if not isinstance(value, str) or not value.strip() or len(value) > spec.MAX_STRING_LENGTH:
            self.error(path, "must be a non-empty string")
            return False
        return True

    # --- conditions --------------------------------------------------------------------------

    def consent(self, value: Any, path: str) -> None:
        example = '{"channel": "email", "status": "opted_in"}'
        if not self.known_keys(value, path, spec.CONSENT_KEYS, example):
            return
        for key in spec.CONSENT_KEYS:
            if key not in value:
                self.error(path_join(path, key), "is required")
        if "channel" in value:
            self.channel(value["channel"], path_join(path, "channel"))
        if "status" in value:
            self.one_or_many(value["status"], path_join(path, "status"), self.consent_status)

    def consent_status(self, value: Any, path: str) -> bool:
        if value not in spec.CONSENT_STATUSES:
            self.error(
                path,
                f"unknown consent status {value!r}; use one of: {_quoted(spec.CONSENT_STATUSES)}",
            )
            return False
        return True

    def rfm(self, value: Any, path: str) -> None:
        if not self.known_keys(value, path, spec.RFM_KEYS, '{"segment": "champions"}'):
            return
        if "segment" in value:
            self.one_or_many(value["segment"], path_join(path, "segment"), self.rfm_segment)
        for key in spec.RFM_SCORE_KEYS:
            if key in value:
                self.comparison(value[key], path_join(path, key), self.whole_number(1, 5))
        for key in ("recency_days", "frequency"):
            if key in value:
                self.comparison(value[key], path_join(path, key), self.whole_number(0, 10**9))
        if "monetary" in value:
            self.comparison(value["monetary"], path_join(path, "monetary"), self.number)

    def clv(self, value: Any, path: str) -> None:
        if not self.known_keys(value, path, spec.CLV_KEYS, '{"clv_12m": {"gte": 100}}'):
            return
        if not value:
            self.error(path, f"needs at least one of: {_quoted(spec.CLV_KEYS)}")
        for key in spec.CLV_AMOUNT_KEYS:
            if key in value:
                self.comparison(value[key], path_join(path, key), self.number)
        for key in spec.CLV_PROBABILITY_KEYS:
            if key in value:
                self.comparison(value[key], path_join(path, key), self.probability)
        for key in spec.CLV_COUNT_KEYS:
            if key in value:
                self.comparison(value[key], path_join(path, key), self.whole_number(0, 10**9))

    def probability(self, value: Any, path: str) -> bool:
        if not spec.is_number(value) or not 0 <= value <= 1:
            self.error(path, "must be a number from 0 to 1")
            return False
        return True

    def rfm_segment(self, value: Any, path: str) -> bool:
        if value not in spec.RFM_SEGMENTS:
            self.error(
                path, f"unknown RFM segment {value!r}; use one of: {_quoted(spec.RFM_SEGMENTS)}"
            )
            return False
        return True

    def event(self, value: Any, path: str) -> None:
        if not self.known_keys(value, path, spec.EVENT_KEYS, '{"name": "order_placed"}'):
            return
        if "name" not in value:
            self.error(path_join(path, "name"), "is required")
        elif (
            self.non_empty_string(value["name"], path_join(path, "name"))
            and len(value["name"]) > 100
        ):
            self.error(path_join(path, "name"), "must be at most 100 characters")
        if "performed" in value and not isinstance(value["performed"], bool):
            self.error(path_join(path, "performed"), "must be true or false")
        if "where" in value:
            where_path = path_join(path, "where")
            if not isinstance(value["where"], list):
                self.error(where_path, "must be a list of property filters")
            else:
                for index, item in enumerate(value["where"]):
                    self.property_filter(item, path_join(where_path, index))
        if "count" in value:
            self.comparison(value["count"], path_join(path, "count"), self.whole_number(0, 10**9))
        self.window(value, path)

    def property_filter(self, value: Any, path: str) -> None:
        example = '{"property": "category", "op": "equals", "value": "Books"}'
        if not self.known_keys(value, path, ("property", "op", "value"), example):
            return
        name = value.get("property")
        if name is None:
            self.error(path_join(path, "property"), "is required")
        elif self.non_empty_string(name, path_join(path, "property")) and "__" in name:
            self.error(path_join(path, "property"), "property names containing '__' cannot be used")
        op = value.get("op")
        op_path = path_join(path, "op")
        if op not in spec.PROPERTY_OPS:
            self.error(
                op_path, f"unknown operator {op!r}; use one of: {_quoted(spec.PROPERTY_OPS)}"
            )
            return
        item = value.get("value")
        item_path = path_join(path, "value")
        if op in spec.NO_VALUE_OPS:
            if item is not None:
                self.error(item_path, f"'{op}' takes no value")
        elif op in ("equals", "not_equals"):
            self.json_scalar(item, item_path)
        elif op == "in":
            self.items(item, item_path, self.json_scalar)
        elif op == "contains":
            self.non_empty_string(item, item_path)
        elif not (spec.is_number(item) or isinstance(item, str)):
            self.error(item_path, "must be a number or a string")

    def json_scalar(self, value: Any, path: str) -> bool:
        if not (isinstance(value, str | bool) or spec.is_number(value)):
            self.error(path, "must be a string, a number, or true/false")
            return False
        return True

    def orders(self, value: Any, path: str) -> None:
        if not self.known_keys(value, path, spec.ORDERS_KEYS, '{"count": {"gte": 3}}'):
            return
        if not any(key in value for key in spec.ORDERS_MEASURES):
            self.error(path, "needs at least one of: count, sum, average")
        if "count" in value:
            self.comparison(value["count"], path_join(path, "count"), self.whole_number(0, 10**9))
        for key in ("sum", "average"):
            if key in value:
                self.comparison(value[key], path_join(path, key), self.number)
        self.window(value, path)

    def bought(self, value: Any, path: str) -> None:
        if not self.known_keys(value, path, spec.BOUGHT_KEYS, '{"sku": "GPU-1"}'):
            return
        given = [key for key in ("sku", "category") if key in value]
        if len(given) != 1:
            self.error(path, "needs exactly one of: sku, category")
        for key in given:
            self.one_or_many(value[key], path_join(path, key), self.non_empty_string)
        self.window(value, path)

    def segment(self, value: Any, path: str) -> None:
        if not spec.is_int(value) or value < 1:
            self.error(path, "must be a segment id (a whole number)")
        else:
            self.segment_refs.append((path, value))

    _conditions: dict[str, Callable[["_Checker", Any, str], None]] = {
        "consent": consent,
        "rfm": rfm,
        "clv": clv,
        "event": event,
        "orders": orders,
        "bought": bought,
        "segment": segment,
    }

    # --- segment references ------------------------------------------------------------------

    def segment_references(self, segment_id: int | None) -> None:
        """Referenced segments must exist, and following their rules must not lead back here."""
        if not self.segment_refs:
            return
        # Breadth-first over stored rules, one query per level of references.
        rules: dict[int, Any] = {}
        frontier = {ref for _path, ref in self.segment_refs}
        while frontier:
            found = dict(Segment.objects.filter(pk__in=frontier).values_list("pk", "rules"))
            rules.update(found)
            next_frontier = set()
            for stored_rule in found.values():
                for ref in referenced_segment_ids(stored_rule):
                    if ref not in rules and ref not in frontier:
                        next_frontier.add(ref)
            frontier = next_frontier
        for path, ref in self.segment_refs:
            if ref not in rules:
                self.error(path, f"segment {ref} does not exist")
            elif segment_id is not None and ref == segment_id:
                self.error(path, "a segment cannot refer to itself")
            elif segment_id is not None:
                chain = _chain_to(segment_id, start=ref, rules=rules)
                if chain:
                    cycle = " → ".join(str(pk) for pk in [segment_id, *chain])
                    self.error(
                        path, f"segment {ref} refers back to this segment ({cycle}), a cycle"
                    )


def _chain_to(target: int, *, start: int, rules: dict[int, Any]) -> list[int]:
    """The shortest chain of references from `start` to `target`, or [] if there is none."""
    came_from: dict[int, int] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        next_frontier = []
        for pk in frontier:
            for ref in referenced_segment_ids(rules.get(pk)):
                if ref == target:
                    chain = [target, pk]
                    while chain[-1] != start:
                        chain.append(came_from[chain[-1]])
                    return list(reversed(chain))
                if ref not in seen:
                    seen.add(ref)
                    came_from[ref] = pk
                    next_frontier.append(ref)
        frontier = next_frontier
    return []


def _order_key(kind: str) -> Callable[[Any], Any]:
    if kind in (spec.DATE, spec.DATETIME):
        return lambda item: spec.parse_moment(item)[0]
    return lambda item: item
