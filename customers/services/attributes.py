from datetime import date
from typing import Any

from customers.models import AttributeDefinition

MAX_STRING_ATTRIBUTE_LENGTH = 2000


def attribute_types() -> dict[str, str]:
    return dict(AttributeDefinition.objects.values_list("key", "type"))


def attribute_value_coerce(type_: str, value: Any) -> Any:
    """Return the value to store for an attribute of `type_`, or raise ValueError."""
    if type_ == AttributeDefinition.Type.STRING:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if len(value) > MAX_STRING_ATTRIBUTE_LENGTH:
            raise ValueError(f"must be at most {MAX_STRING_ATTRIBUTE_LENGTH} characters")
        return value
    if type_ == AttributeDefinition.Type.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        return value
    if type_ == AttributeDefinition.Type.BOOL:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if type_ == AttributeDefinition.Type.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValueError("must be a date as YYYY-MM-DD") from None
    raise ValueError(f"has an unknown type '{type_}'")


def attributes_merge(
    stored: dict[str, Any], incoming: dict[str, Any], types: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Merge incoming attributes into the stored ones (null removes a key).

    Returns the merged dict and a list of (key, problem) for values that do not fit their type.
    """
    merged = dict(stored)
    problems = []
    for key, value in incoming.items():
        if key not in types:
            problems.append(
                (key, "is not a defined attribute; staff define attributes in the admin")
            )
        elif value is None:
            merged.pop(key, None)
        else:
            try:
                merged[key] = attribute_value_coerce(types[key], value)
            except ValueError as exc:
                problems.append((key, str(exc)))
    return merged, problems
