"""What every provider webhook does the same way: refuse a bad signature, read a JSON body, and
answer a malformed one naming the field.

- a missing or wrong signature or secret → 403 `{"code": "invalid_signature", "message": …}`;
- a malformed body → 400 `{"code": "invalid_payload", "message": …, "errors": [{"field",
  "message"}]}`; parsers raise `Malformed(field, message)` and the view answers `invalid_payload`.

`signed_post_view` puts both around a POST callback view.

Secrets and signatures are compared in constant time, and an unset secret matches nothing: a
webhook whose secret is not configured refuses every callback.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from api.errors import error_body
from api.types import (
    PROVIDER_MAX_INTEGER,
    InvalidJson,
    check_datetime,
    check_json,
    check_text,
    datetime_from_timestamp,
)
from customers.models import ChannelIdentity


class Malformed(Exception):
    """A callback body that is not what the provider documents; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def invalid_signature(message: str) -> JsonResponse:
    return JsonResponse(error_body("invalid_signature", message), status=403)


def invalid_payload(field: str, message: str, *, summary: str | None = None) -> JsonResponse:
    """400 naming the field; `summary` is the top-level message when it says more than `message`."""
    return JsonResponse(
        error_body(
            "invalid_payload",
            message if summary is None else summary,
            [{"field": field, "message": message}],
        ),
        status=400,
    )


def malformed_response(exc: Malformed) -> JsonResponse:
    return invalid_payload(exc.field, exc.message)


def signed_post_view(
    *,
    verified: Callable[[HttpRequest], bool],
    refusal: str,
    on_malformed: Callable[[Malformed], HttpResponse] = malformed_response,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A provider's POST callback view: CSRF-exempt (providers have no token), the signature or
    secret checked before anything else (`refusal` is the 403's message), and a `Malformed`
    raised by the view answered by `on_malformed` (400 naming the field). The view must raise
    before it writes anything.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @require_POST
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not verified(request):
                return invalid_signature(refusal)
            try:
                return view(request, *args, **kwargs)
            except Malformed as exc:
                return on_malformed(exc)

        return checked

    return decorate


def secret_matches(given: str, expected: str) -> bool:
    """Whether a presented secret (or signature) equals the expected one; never when either is
    empty, so an unconfigured secret accepts nothing."""
    return bool(given and expected) and constant_time_compare(given, expected)


def hmac_sha256_hex(key: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body: what Viber, Meta and Kaskad's telephony hook sign with."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object within api.types' bounds (no NUL, numbers that read back, not
    too deep), so that any of it may be stored; or Malformed naming where it is not."""
    try:
        # orjson, like the API: it refuses NaN, Infinity, lone surrogates and runaway nesting,
        # which the stdlib parser lets through (or answers with a RecursionError).
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:  # an empty body too
        raise Malformed("body", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed("body", "the body must be a JSON object")
    try:
        return check_json(data, max_integer=PROVIDER_MAX_INTEGER)
    except InvalidJson as exc:
        raise Malformed(exc.path or "body", exc.message) from None


def bounded_text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    """A string (or a number a gateway sent for it) that fits its column, stripped; or Malformed."""
    if value is None or value == "":
        if required:
            raise Malformed(field, "is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Malformed(field, "must be a string")
    value = str(value).strip()
    try:
        check_text(value)
    except ValueError as exc:
        raise Malformed(field, str(exc)) from None
    if len(value) > max_length:
        raise Malformed(field, f"must be at most {max_length} characters")
    if required and not value:
        raise Malformed(field, "is required")
    return value


def unix_time(value: Any, field: str, *, per_second: int = 1) -> datetime:
    """A Unix timestamp (in 1/per_second seconds: 1000 for milliseconds) as an aware UTC
    datetime within range; or Malformed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(field, "must be a whole Unix timestamp")
    try:
        return datetime_from_timestamp(value if per_second == 1 else value / per_second)
    except ValueError as exc:
        raise Malformed(field, str(exc)) from None


def iso_moment(value: str, field: str) -> datetime | None:
    """An ISO 8601 date-time (UTC when it has no offset) as an aware UTC datetime within range;
    None if it is not one; Malformed if it is one that cannot be stored (out of range)."""
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return check_datetime(moment)
    except ValueError as exc:
        raise Malformed(field, str(exc)) from None


def consent_set_by_address(*, channel: str, address: str, status: str, source: str) -> bool:
    """Set the consent of the customer who has this address on the channel (a messenger user
    blocking the bot, unsubscribing, subscribing); False when no customer has it."""
    from customers.services.consents import consent_set

    identity = (
        ChannelIdentity.objects.select_related("customer")
        .filter(channel=channel, address=address)
        .first()
    )
    if identity is None:
        return False
    consent_set(customer=identity.customer, channel=channel, status=status, source=source)
    return True
