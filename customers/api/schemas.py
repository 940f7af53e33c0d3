"""What API clients send, validated with pydantic.

pydantic (rather than DRF serializers) validates the 1,000-item batches: its core is compiled and
about an order of magnitude faster, and its error locations `(index, field, ...)` are exactly the
`{"index", "field"}` pairs the API contract promises. drf-spectacular documents these models.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from api.errors import ApiError, ValidationFailed
from api.types import Documented, JsonObject, UtcDatetime, text
from customers.models import Channel, ConsentStatus, LifecycleStage, Order
from customers.normalize import (
    normalize_address,
    normalize_currency,
    normalize_email,
    normalize_locale,
    normalize_phone,
    normalize_timezone,
)

MAX_BATCH_ITEMS = 1000

# Every string goes through api.types.text (no NUL, bounded); see api/types.py.
ExternalId = text(min_length=1, max_length=255, strip=True)
# Paths that are not a customer's, although they look like /customers/{external_id}.
UNADDRESSABLE_IDS = (".", "..", "batch")


def _addressable(external_id: str) -> str:
    # A customer's id is one segment of their URL; an id that is not could be stored but
    # never read back through /customers/{external_id}.
    if "/" in external_id or external_id in UNADDRESSABLE_IDS:
        raise ValueError("must not contain '/' nor be '.', '..' or 'batch' (it is part of a URL)")
    return external_id


CustomerId = Annotated[
    ExternalId,
    AfterValidator(_addressable),
    Documented(
        pattern="^[^\\u0000/]*$",
        description="One URL segment: no '/', and not '.', '..' or 'batch'.",
        **{"not": {"enum": list(UNADDRESSABLE_IDS)}},
    ),
]
# Digits with the separators people write; what normalize_phone checks beyond is the number plan.
PHONE_PATTERN = r"^[+(\s]*\d[\d\s().\-/]*$"
# The formats below are documented as closely as JSON schema can say what the normalisers check.
Email = Annotated[text(max_length=254), AfterValidator(normalize_email), Documented(format="email")]
Phone = Annotated[
    text(max_length=40),
    AfterValidator(normalize_phone),
    Documented(
        pattern=PHONE_PATTERN,
        description="A number valid for its country in any common notation "
        "('+7 916 123-45-67', '8 (916) 123-45-67'; without a country code it is read in "
        "DEFAULT_PHONE_REGION); stored and returned in E.164.",
    ),
]
Locale = Annotated[
    text(max_length=35),
    AfterValidator(normalize_locale),
    Documented(
        pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$",
        description="A known locale such as 'ru-RU', 'ru_RU' or 'en'; stored as a BCP 47 tag.",
    ),
]
TimeZone = Annotated[
    text(max_length=64),
    AfterValidator(normalize_timezone),
    Documented(enum=sorted(available_timezones()), description="An IANA time zone."),
]
Currency = Annotated[
    text(min_length=3, max_length=3),
    AfterValidator(normalize_currency),
    Documented(
        pattern="^[A-Za-z]{3}$", description="An ISO 4217 code such as 'RUB' (any letter case)."
    ),
]
Name = text(max_length=150, strip=True)
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
ConsentStatusName = Literal[tuple(ConsentStatus.values)]  # type: ignore[valid-type]
LifecycleStageName = Literal[tuple(LifecycleStage.values)]  # type: ignore[valid-type]
OrderStatusName = Literal[tuple(Order.Status.values)]  # type: ignore[valid-type]
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 999_999_999_999.99},
                {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
            ],
            "description": "At least 0, at most 12 digits before the point and 2 after it.",
        }
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IdentityIn(Strict):
    channel: ChannelName
    address: text(min_length=1, max_length=512)

    @field_validator("address")
    @classmethod
    def _canonical_address(cls, address: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        return normalize_address(channel, address) if channel else address


class ConsentIn(Strict):
    channel: ChannelName
    status: ConsentStatusName
    source: text(max_length=100) = ""


class CustomerFields(Strict):
    """Profile fields. Fields left out are not changed; null clears a field."""

    email: Email | None = None
    phone: Phone | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    birth_date: date | None = None
    lifecycle_stage: LifecycleStageName | None = None
    attributes: JsonObject | None = Field(
        default=None,
        description="Custom attributes, merged into the stored ones; null removes a key. "
        "Each key must be defined by staff with a type.",
    )
    identities: list[IdentityIn] | None = Field(
        default=None, description="Addresses to add (email and phone add their own)."
    )
    consents: list[ConsentIn] | None = None
    created_at: UtcDatetime | None = Field(
        default=None,
        description="When the customer signed up, as the CRM knows it; "
        "defaults to when Kaskad first heard of them.",
    )


class CustomerIn(CustomerFields):
    external_id: CustomerId


class CustomerPatch(CustomerFields):
    pass


class EventIn(Strict):
    event_id: ExternalId
    customer_external_id: CustomerId
    name: text(min_length=1, max_length=100)
    properties: JsonObject = Field(default_factory=dict)
    occurred_at: UtcDatetime
    source: text(max_length=50) = ""


class OrderItemIn(Strict):
    sku: text(min_length=1, max_length=100)
    name: text(max_length=255) = ""
    category: text(max_length=255) = ""
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    price: Money
    url: text(max_length=1000) = Field("", description="The product's page; kept on the product.")
    image_url: text(max_length=1000) = Field("", description="The product's picture.")


class OrderIn(Strict):
    external_id: ExternalId
    customer_external_id: CustomerId
    status: OrderStatusName = "completed"
    placed_at: UtcDatetime
    total: Money
    currency: Currency
    promo_code: text(max_length=100) = ""
    items: list[OrderItemIn] = Field(default_factory=list, max_length=1000)


class ConsentPut(Strict):
    status: ConsentStatusName
    source: text(max_length=100) = ""


class CustomerBatchIn(Strict):
    items: list[CustomerIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class EventBatchIn(Strict):
    items: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class OrderBatchIn(Strict):
    items: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _message(error: dict) -> str:
    message = error["msg"]
    return message.removeprefix("Value error, ")


def validation_errors(exc: ValidationError, *, batch: bool) -> list[dict[str, Any]]:
    """pydantic's errors as the API's [{"index", "field", "message"}] (index only in batches)."""
    errors = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if batch and len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            errors.append(
                {"index": loc[1], "field": _field_path(loc[2:]), "message": _message(error)}
            )
        else:
            errors.append({"field": _field_path(loc), "message": _message(error)})
    return errors


def parse(model: type[BaseModel], data: Any):
    """Validate a request body against a schema, or raise the API's 400 validation error."""
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "body", "message": "must be a JSON object"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc, batch=False)) from None


def parse_batch(model: type[BaseModel], data: Any):
    """Validate a batch body `{"items": [...]}`; more than MAX_BATCH_ITEMS items is 413."""
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "body", "message": "must be a JSON object"}])
    items = data.get("items")
    if isinstance(items, list) and len(items) > MAX_BATCH_ITEMS:
        raise ApiError(
            f"A batch holds at most {MAX_BATCH_ITEMS} items; this one has {len(items)}.",
            code="too_many_items",
            status_code=413,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_errors(exc, batch=True)) from None
