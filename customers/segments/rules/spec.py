"""The vocabulary of the segment rule language, shared by validation and compilation.

See docs/segments.md for the language itself.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from customers.models import Channel, ConsentStatus, LifecycleStage, Order, RfmSegment

GROUP_KEYS = ("all", "any", "not")
CONDITION_KEYS = (
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

ATTRIBUTE_PREFIX = "attributes."

# Field kinds. Attribute definitions bring string / number / bool / date.
STRING, CHOICE, NUMBER, BOOL, DATE, DATETIME = (
    "string",
    "choice",
    "number",
    "bool",
    "date",
    "datetime",
)

PROFILE_FIELDS = {
    "first_name": STRING,
    "last_name": STRING,
    "email": STRING,
    "phone": STRING,
    "locale": STRING,
    "timezone": STRING,
    "lifecycle_stage": CHOICE,
    "birth_date": DATE,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}
KIND_LABELS = {
    STRING: "a text field",
    CHOICE: "a choice field",
    NUMBER: "a number field",
    BOOL: "a yes/no field",
    DATE: "a date field",
    DATETIME: "a date-time field",
}

NO_VALUE_OPS = ("is_set", "is_not_set")
RELATIVE_DATE_OPS = ("in_last_days", "more_than_days_ago", "in_next_days", "age_between")
COMPARISON_OPS = ("gt", "gte", "lt", "lte", "between")

OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    STRING: ("equals", "not_equals", "in", "not_in", "contains", "starts_with", *NO_VALUE_OPS),
    CHOICE: ("equals", "not_equals", "in", "not_in", *NO_VALUE_OPS),
    NUMBER: ("equals", "not_equals", "in", "not_in", *COMPARISON_OPS, *NO_VALUE_OPS),
    BOOL: ("equals", "not_equals", *NO_VALUE_OPS),
    DATE: ("equals", "not_equals", *COMPARISON_OPS, *NO_VALUE_OPS, *RELATIVE_DATE_OPS),
    DATETIME: (
        "equals",
        "not_equals",
        *COMPARISON_OPS,
        *NO_VALUE_OPS,
        "in_last_days",
        "more_than_days_ago",
    ),
}
ALL_FIELD_OPS = frozenset(op for ops in OPS_BY_KIND.values() for op in ops)

PROPERTY_OPS = ("equals", "not_equals", "in", "contains", "gt", "gte", "lt", "lte", *NO_VALUE_OPS)

# Comparison objects such as {"gte": 2} or {"between": [2, 5]} on counts, sums and scores.
NUMBER_COMPARISON_KEYS = ("equals", "not_equals", "gt", "gte", "lt", "lte", "between")

CHANNELS = tuple(Channel.values)
CONSENT_STATUSES = tuple(ConsentStatus.values)
LIFECYCLE_STAGES = tuple(LifecycleStage.values)
RFM_SEGMENTS = tuple(RfmSegment.values)
RFM_SCORE_KEYS = ("r", "f", "m")
RFM_NUMBER_KEYS = ("recency_days", "frequency", "monetary")
RFM_KEYS = ("segment", *RFM_SCORE_KEYS, *RFM_NUMBER_KEYS)

# CustomerValue's columns a `clv` condition compares (analytics.clv writes them nightly).
CLV_PROBABILITY_KEYS = ("p_alive",)
CLV_COUNT_KEYS = ("orders",)
CLV_AMOUNT_KEYS = ("historic_revenue", "expected_purchases_12m", "expected_spend", "clv_12m")
CLV_KEYS = (*CLV_AMOUNT_KEYS, *CLV_PROBABILITY_KEYS, *CLV_COUNT_KEYS)

EVENT_KEYS = ("name", "performed", "where", "count", "within_days", "between")
ORDERS_KEYS = ("count", "sum", "average", "within_days", "between")
ORDERS_MEASURES = ("count", "sum", "average")
BOUGHT_KEYS = ("sku", "category", "within_days", "between")
CONSENT_KEYS = ("channel", "status")

# Orders in these states never happened as far as segmentation is concerned.
UNCOUNTED_ORDER_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)

# Limits that keep a rule's SQL reasonable and catch typos such as 3000 days for 30.
MAX_DEPTH = 20
MAX_LIST_ITEMS = 1000
MAX_DAYS = 36_500
MAX_AGE_YEARS = 150
MAX_STRING_LENGTH = 2000

CATEGORY_PREFIX_MARK = "*"

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def path_join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_date(value: Any) -> date | None:
    """A 'YYYY-MM-DD' string as a date, or None (fromisoformat alone also accepts '20260101')."""
    if not isinstance(value, str) or not _DATE_PATTERN.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_moment(value: Any) -> tuple[datetime, datetime] | None:
    """A date or date-time string as the span it names: [start, end).

    A date names its whole UTC day; a date-time names one instant (start == end). A date-time
    without an offset is taken as UTC.
    """
    day = parse_date(value)
    if day is not None:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        if day == date.max:  # the calendar's last day ends with it
            return start, datetime.max.replace(tzinfo=UTC)
        return start, start + timedelta(days=1)
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), moment.replace(tzinfo=UTC)
    try:
        # In UTC: PostgreSQL cannot store every offset Python parses (e.g. +20:00).
        moment = moment.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00+01:00" is before the calendar starts in UTC
        return None
    return moment, moment


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
