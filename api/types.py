"""Validated input types shared by every API schema and webhook parser.

A value that passes these is storable in both databases and readable by every reader afterwards
(API, timeline, export, admin, CSV), so nothing accepted can poison a record:

- text: no NUL (PostgreSQL refuses it in text and jsonb) and no lone surrogate (not UTF-8);
- datetimes: aware, normalised to UTC (PostgreSQL cannot store offsets beyond ±15:59), and at
  least a day inside years 1–9999 so that showing them in any time zone stays in range;
- JSON values: bounded depth (orjson renders at most 254 levels), integers within ±(2**53 − 1)
  and finite floats below 2**53 in magnitude (jsonb reads 1e20 back as an integer too large to
  render, and JavaScript clients lose precision beyond 2**53), keys that are text as above.

`text(...)`, `UtcDatetime`, `JsonValue` and `JsonObject` are pydantic types; `check_text`,
`check_datetime` and `check_json` are the same rules for hand-written parsers (webhooks), raising
`ValueError` (JSON: `InvalidJson`, which names where). `check_depth` bounds a whole request body
without recursion (api/parsers.py). `Documented` and `DocumentedAs` make the OpenAPI schema say
what a validator checks (JSON values are documented as `BoundedJson`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema
from typing_extensions import TypeAliasType

MAX_JSON_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
PROVIDER_MAX_INTEGER = 2**63 - 1  # what PostgreSQL's bigint and orjson both hold
MAX_SAFE_FLOAT = float(2**53)
# A day inside the calendar's ends, so converting to any time zone (±1 day at most) stays in it.
EARLIEST_DATETIME = datetime(1, 1, 2, tzinfo=UTC)
LATEST_DATETIME = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
NO_NUL_PATTERN = "^[^\\u0000]*$"


# --- Text ---------------------------------------------------------------------------------------
def check_text(value: str) -> str:
    """`value` if every database can store it, else ValueError."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


class _NoNul:
    """Marks a str type: validated by check_text, and documented with a pattern excluding NUL."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(check_text, handler(source))

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", NO_NUL_PATTERN)
        return json_schema


def text(*, max_length: int, min_length: int = 0, strip: bool = False) -> Any:
    """A bounded string with no NUL: `name: text(max_length=150, strip=True)`."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length),
        _NoNul,
    ]


# Free text whose length the database does not bound (TextField), still bounded here.
Text = text(max_length=100_000)


# --- Datetimes ----------------------------------------------------------------------------------
def check_datetime(value: datetime) -> datetime:
    """An aware datetime in UTC and within range, else ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must have a time zone (e.g. Z or +03:00)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within years 1 to 9999 in UTC") from None
    if not EARLIEST_DATETIME <= value <= LATEST_DATETIME:
        raise ValueError(
            f"must be between {EARLIEST_DATETIME.isoformat()} and {LATEST_DATETIME.isoformat()}"
        )
    return value


def datetime_from_timestamp(seconds: int | float) -> datetime:
    """A Unix timestamp (seconds) as a checked UTC datetime, else ValueError."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
    ):
        raise ValueError("must be a Unix timestamp")
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise ValueError("must be a Unix timestamp within years 1 to 9999") from None
    return check_datetime(moment)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(check_datetime)]


# --- JSON values --------------------------------------------------------------------------------
class InvalidJson(ValueError):
    """A JSON value outside what is storable; `path` is where ("" for the value itself)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def check_json(
    value: Any, *, max_depth: int = MAX_JSON_DEPTH, max_integer: int = MAX_SAFE_INTEGER
) -> Any:
    """`value` if it is JSON every database stores and every reader renders, else InvalidJson.

    `max_integer` may be raised to PROVIDER_MAX_INTEGER for a gateway's own payload (Viber's
    message tokens are 64-bit): orjson still renders those, though JavaScript rounds them.
    """
    _check_json(value, "", max_depth, max_integer)
    return value


def _check_json(value: Any, path: str, depth_left: int, max_integer: int) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        _checked(check_text, value, path)
    elif isinstance(value, int):
        if abs(value) > max_integer:
            raise InvalidJson(path, f"integers must be within ±{max_integer}")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= MAX_SAFE_FLOAT:
            raise InvalidJson(path, "numbers must be finite and smaller than 2**53 in magnitude")
    elif isinstance(value, dict | list):
        if depth_left <= 0:
            raise InvalidJson(path, f"must not nest deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, list):
            for index, item in enumerate(value):
                _check_json(item, f"{path}[{index}]", depth_left - 1, max_integer)
            return
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidJson(path, "keys must be strings")
            where = f"{path}.{key}" if path else key
            _checked(check_text, key, where)
            _check_json(item, where, depth_left - 1, max_integer)
    else:
        raise InvalidJson(path, f"{type(value).__name__} is not a JSON value")


def check_depth(value: Any, *, max_depth: int) -> Any:
    """`value` if its containers nest at most `max_depth` deep (the value itself is level 1),
    else InvalidJson naming where. Iterative: a body may be nested as deep as the parser allows
    (1,024 for orjson), deeper than Python's recursion limit."""
    stack = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            raise InvalidJson(path, f"must not nest deeper than {max_depth} levels")
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            if isinstance(child, dict | list):
                where = (
                    f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
                )
                stack.append((child, where, depth + 1))
    return value


def _checked(check: Any, value: Any, path: str) -> None:
    try:
        check(value)
    except ValueError as exc:
        raise InvalidJson(path, str(exc)) from None


def _json_value(value: Any) -> Any:
    try:
        return check_json(value)
    except InvalidJson as exc:
        # pydantic reports the field; the path inside it goes into the message.
        raise ValueError(str(exc)) from None


# --- How they are documented (the OpenAPI schema) ------------------------------------------------
class Documented:
    """Adds JSON-schema keywords saying what a validator checks; validates nothing itself.

    `Annotated[str, AfterValidator(normalize_email), Documented(format="email")]`
    """

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **self.keywords}


class DocumentedAs:
    """Documents a value as the type given, whose JSON schema says what validators check.

    For languages JSON schema describes better than pydantic validates them (`Any` checked by
    hand-written code): `Annotated[Any, AfterValidator(check), DocumentedAs(Rule)]`.
    """

    def __init__(self, documented_type: Any, *, nullable: bool = False) -> None:
        self.adapter = TypeAdapter(documented_type)
        self.nullable = nullable

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented = handler(self.adapter.core_schema)
        return {"anyOf": [documented, {"type": "null"}]} if self.nullable else documented


_JsonNumber = Annotated[
    float,
    WithJsonSchema(
        {"type": "number", "exclusiveMinimum": -MAX_SAFE_FLOAT, "exclusiveMaximum": MAX_SAFE_FLOAT}
    ),
]
_JsonText = Annotated[str, WithJsonSchema({"type": "string", "pattern": NO_NUL_PATTERN})]
_JsonObject = Annotated[
    dict[str, "BoundedJson"], Documented(propertyNames={"pattern": NO_NUL_PATTERN})
]
# check_json's bounds, depth aside (JSON schema cannot count levels).
BoundedJson = TypeAliasType(
    "BoundedJson", "_JsonNumber | _JsonText | bool | list[BoundedJson] | _JsonObject | None"
)

# Any JSON value within bounds, and a JSON object (properties, payloads). A value documented as
# a language of its own (segment rules) uses the check with its own DocumentedAs.
CHECK_JSON = AfterValidator(_json_value)
JsonValue = Annotated[Any, CHECK_JSON, DocumentedAs(BoundedJson)]
JsonObject = Annotated[dict[str, Any], CHECK_JSON, DocumentedAs(_JsonObject)]
