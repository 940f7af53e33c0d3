"""The rule language as a JSON schema, for the OpenAPI document (docs/segments.md in types).

`rule_validate` is what accepts a rule; these types describe the same language, built from the
same vocabulary (spec.py), so clients and fuzzers can write valid rules. What a JSON schema cannot
say is checked there only and answered 400 naming the rule's path: an attribute must be defined by
staff (its type decides the operators), a referenced segment must exist and not lead back to the
segment, a range needs low ≤ high, and rules nest at most MAX_DEPTH levels.
tests/customers/test_segment_rule_schema.py keeps the two in step.

The types are only ever turned into a JSON schema; nothing is validated with them.
"""

from typing import Annotated, Any, Literal, NotRequired, Union

from annotated_types import Len
from pydantic import ConfigDict, WithJsonSchema
from typing_extensions import TypeAliasType, TypedDict

from customers.segments.rules import spec

_CLOSED = ConfigDict(extra="forbid")


def _literal(values: tuple[str, ...] | list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _doc(schema: dict[str, Any]) -> Any:
    return Annotated[Any, WithJsonSchema(schema)]


def _closed(name: str, fields: dict[str, Any], **extra: Any) -> Any:
    """A JSON object with exactly these keys (NotRequired[...] ones optional)."""
    typed_dict = TypedDict(name, fields)  # type: ignore[operator]
    config = dict(_CLOSED)
    if extra:
        config["json_schema_extra"] = extra
    typed_dict.__pydantic_config__ = ConfigDict(**config)  # type: ignore[attr-defined]
    return typed_dict


def _list(item: Any, *, min_items: int = 1, max_items: int | None = spec.MAX_LIST_ITEMS) -> Any:
    return Annotated[list[item], Len(min_items, max_items)]  # type: ignore[valid-type]


def _one_or_many(item: Any) -> Any:
    return Union[item, _list(item)]  # noqa: UP007  (a runtime Union of runtime-built types)


def _pair(item_schema: dict[str, Any]) -> Any:
    return _doc(
        {
            "type": "array",
            "prefixItems": [item_schema, item_schema],
            "items": False,
            "minItems": 2,
            "maxItems": 2,
            "description": "[low, high], inclusive; low must not be greater than high.",
        }
    )


# --- Values -------------------------------------------------------------------------------------
_TEXT = {"type": "string", "maxLength": spec.MAX_STRING_LENGTH}
_NON_EMPTY_TEXT = {"type": "string", "minLength": 1}
_NAME = {"type": "string", "pattern": r"\S", "maxLength": spec.MAX_STRING_LENGTH}
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_MOMENT = {
    "anyOf": [
        _DATE,
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$",
            "description": "ISO 8601; no offset means UTC.",
        },
    ]
}
_DAYS = {"type": "integer", "minimum": 0, "maximum": spec.MAX_DAYS}
_AGE = {"type": "integer", "minimum": 0, "maximum": spec.MAX_AGE_YEARS}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 10**9}
_SCORE = {"type": "integer", "minimum": 1, "maximum": 5}
_AMOUNT = {"type": "number", "minimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
_JSON_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
_ANY_VALUE = {"not": {"type": "null"}, "description": "As the attribute's type requires."}

Channel = _literal(spec.CHANNELS)
ConsentStatus = _literal(spec.CONSENT_STATUSES)
RfmSegment = _literal(spec.RFM_SEGMENTS)
NoValue = NotRequired[_doc({"type": "null"})]


def _comparison(name: str, item_schema: dict[str, Any]) -> Any:
    """{"gte": 2}, {"between": [1, 3]}, …: at least one key; the keys combine with AND."""
    keys = {key: NotRequired[_doc(item_schema)] for key in spec.NUMBER_COMPARISON_KEYS}
    keys["between"] = NotRequired[_pair(item_schema)]
    return _closed(name, keys, minProperties=1)


ScoreComparison = _comparison("ScoreComparison", _SCORE)
CountComparison = _comparison("CountComparison", _COUNT)
AmountComparison = _comparison("AmountComparison", _AMOUNT)
ProbabilityComparison = _comparison("ProbabilityComparison", _PROBABILITY)


# --- Field conditions ---------------------------------------------------------------------------
_FIELDS_BY_KIND = {
    kind: [name for name, field_kind in spec.PROFILE_FIELDS.items() if field_kind == kind]
    for kind in (spec.STRING, spec.CHOICE, spec.DATE, spec.DATETIME)
}
_SCALARS = {
    spec.STRING: _TEXT,
    spec.CHOICE: {"type": "string", "enum": list(spec.LIFECYCLE_STAGES)},
    spec.DATE: _DATE,
    spec.DATETIME: _MOMENT,
}
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], as the same sets recur in several objects.
TEXT_FIELDS = _FIELDS_BY_KIND[spec.STRING]
DATETIME_FIELDS = _FIELDS_BY_KIND[spec.DATETIME]
NO_VALUE_OPS = list(spec.NO_VALUE_OPS)
_KIND_NAMES = {
    spec.STRING: "Text",
    spec.CHOICE: "Choice",
    spec.DATE: "Date",
    spec.DATETIME: "DateTime",
}


def _value_for(kind: str, op: str) -> Any:
    scalar = _SCALARS[kind]
    if op in ("in", "not_in"):
        return _doc(
            {"type": "array", "items": scalar, "minItems": 1, "maxItems": spec.MAX_LIST_ITEMS}
        )
    if op in ("contains", "starts_with"):
        return _doc(_NON_EMPTY_TEXT)
    if op == "between":
        return _pair(scalar)
    if op == "age_between":
        return _pair(_AGE)
    if op in spec.RELATIVE_DATE_OPS:
        return _doc(_DAYS)
    return _doc(scalar)


def _field_conditions() -> list[Any]:
    """One closed object per (kind, op): the operators of a field's kind, each with its value."""
    conditions = []
    for kind, fields in _FIELDS_BY_KIND.items():
        for op in spec.OPS_BY_KIND[kind]:
            value = NoValue if op in spec.NO_VALUE_OPS else _value_for(kind, op)
            name = f"{_KIND_NAMES[kind]}Field{''.join(p.title() for p in op.split('_'))}"
            conditions.append(
                _closed(name, {"field": _literal(fields), "op": _literal([op]), "value": value})
            )
    attribute = _doc(
        {
            "type": "string",
            "pattern": r"^attributes\.",
            "not": {"pattern": "__"},
            "description": "attributes.<key> of an attribute staff defined; its type (text, "
            "number, yes/no, date) decides the operators, as for profile fields.",
        }
    )
    valued_ops = sorted(spec.ALL_FIELD_OPS - set(spec.NO_VALUE_OPS))
    conditions.append(
        _closed(
            "AttributeFieldCompare",
            {"field": attribute, "op": _literal(valued_ops), "value": _doc(_ANY_VALUE)},
        )
    )
    conditions.append(
        _closed(
            "AttributeFieldIsSet",
            {"field": attribute, "op": _literal(spec.NO_VALUE_OPS), "value": NoValue},
        )
    )
    return conditions


# --- Related data -------------------------------------------------------------------------------
_WINDOW = {
    "within_days": NotRequired[_doc({"type": "integer", "minimum": 1, "maximum": spec.MAX_DAYS})],
    "between": NotRequired[_pair(_MOMENT)],
}
_ONE_WINDOW = {"not": {"required": ["within_days", "between"]}}

ConsentSpec = _closed("ConsentSpec", {"channel": Channel, "status": _one_or_many(ConsentStatus)})
RfmSpec = _closed(
    "RfmSpec",
    {
        "segment": NotRequired[_one_or_many(RfmSegment)],
        **{key: NotRequired[ScoreComparison] for key in spec.RFM_SCORE_KEYS},
        "recency_days": NotRequired[CountComparison],
        "frequency": NotRequired[CountComparison],
        "monetary": NotRequired[AmountComparison],
    },
)

ClvSpec = _closed(
    "ClvSpec",
    {
        **{key: NotRequired[AmountComparison] for key in spec.CLV_AMOUNT_KEYS},
        **{key: NotRequired[ProbabilityComparison] for key in spec.CLV_PROBABILITY_KEYS},
        **{key: NotRequired[CountComparison] for key in spec.CLV_COUNT_KEYS},
    },
    minProperties=1,
)


def _property_filters() -> list[Any]:
    name = _doc({**_NAME, "not": {"pattern": "__"}})
    by_op = {
        "PropertyEquals": (("equals", "not_equals"), _doc(_JSON_SCALAR)),
        "PropertyIn": (
            ("in",),
            _doc(
                {
                    "type": "array",
                    "items": _JSON_SCALAR,
                    "minItems": 1,
                    "maxItems": spec.MAX_LIST_ITEMS,
                }
            ),
        ),
        "PropertyContains": (("contains",), _doc(_NAME)),
        "PropertyCompare": (
            ("gt", "gte", "lt", "lte"),
            _doc({"anyOf": [{"type": "number"}, {"type": "string"}]}),
        ),
        "PropertyIsSet": (spec.NO_VALUE_OPS, NoValue),
    }
    return [
        _closed(model, {"property": name, "op": _literal(ops), "value": value})
        for model, (ops, value) in by_op.items()
    ]


PropertyFilter = Union[tuple(_property_filters())]  # noqa: UP007
EventSpec = _closed(
    "EventSpec",
    {
        "name": _doc({**_NAME, "maxLength": 100}),
        "performed": NotRequired[bool],
        "where": NotRequired[_list(PropertyFilter, min_items=0, max_items=None)],
        "count": NotRequired[CountComparison],
        **_WINDOW,
    },
    **_ONE_WINDOW,
)
OrdersSpec = _closed(
    "OrdersSpec",
    {
        "count": NotRequired[CountComparison],
        "sum": NotRequired[AmountComparison],
        "average": NotRequired[AmountComparison],
        **_WINDOW,
    },
    anyOf=[{"required": [measure]} for measure in spec.ORDERS_MEASURES],
    **_ONE_WINDOW,
)
BoughtSpec = _closed(
    "BoughtSpec",
    {
        "sku": NotRequired[_one_or_many(_doc(_NAME))],
        "category": NotRequired[_one_or_many(_doc(_NAME))],
        **_WINDOW,
    },
    oneOf=[{"required": ["sku"]}, {"required": ["category"]}],
    **_ONE_WINDOW,
)

# --- The rule -----------------------------------------------------------------------------------
SegmentRule = TypeAliasType(
    "SegmentRule",
    Union[
        _closed("AllRule", {"all": _list("SegmentRule", min_items=0, max_items=None)}),
        _closed("AnyRule", {"any": _list("SegmentRule", max_items=None)}),
        _closed("NotRule", {"not": "SegmentRule"}),
        *_field_conditions(),
        _closed("ConsentRule", {"consent": ConsentSpec}),
        _closed("ReachableRule", {"reachable": Channel}),
        _closed("IdentityRule", {"identity": Channel}),
        _closed("RfmRule", {"rfm": RfmSpec}),
        _closed("ClvRule", {"clv": ClvSpec}),
        _closed("EventRule", {"event": EventSpec}),
        _closed("OrdersRule", {"orders": OrdersSpec}),
        _closed("BoughtRule", {"bought": BoughtSpec}),
        _closed("SegmentRefRule", {"segment": _doc({"type": "integer", "minimum": 1})}),
    ],
)


# For DRF serializer fields (responses), which refer to the component pydantic registers.
RULE_REFERENCE = {"$ref": "#/components/schemas/SegmentRule"}
