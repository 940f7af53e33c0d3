"""`POST /hooks/telephony/call`: call events from the telephony provider (MTS Exolve's call
notifications, or any PBX that can post JSON), recorded in the call log and on the timeline.

Signature: the header `X-Kaskad-Signature: sha256=<hex>` carries HMAC-SHA256 of the raw request
body with TELEPHONY_WEBHOOK_SECRET as the key. It is checked before the body is even parsed; a
missing or wrong signature (or no secret configured) is 403 and nothing is stored.

Body (JSON object; see docs/channels-push-voice.md):

    {"provider": "exolve",               optional, default "telephony"
     "call_id": "8f2c…",                 the provider's id, the same in every event of the call
     "direction": "inbound" | "outbound",
     "from": "+79161234567", "to": "+74951234567",   any notation; the customer is `from`
                                                       on inbound calls and `to` on outbound ones
     "status": "ringing" | "answered" | "completed" | "missed" | "busy" | "failed" | …,
     "started_at": "2025-05-14T10:03:00Z",
     "duration": 125,                     optional, seconds
     "recording_url": "https://…"}        optional

Every event of a call updates the same log row (repeats change nothing). A malformed body is 400
naming the field.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, JsonResponse
from django.urls import path

from channels.hooks.common import (
    Malformed,
    bounded_text,
    hmac_sha256_hex,
    invalid_payload,
    iso_moment,
    json_object,
    secret_matches,
    signed_post_view,
)
from channels.models import CallLog
from channels.services.calls import CallEvent, call_event_record

SIGNATURE_HEADER = "X-Kaskad-Signature"
# No call lasts a week; a larger duration is a broken sender, not a call to record.
MAX_CALL_SECONDS = 7 * 24 * 3600
DEFAULT_PROVIDER = "telephony"


def signature_for(body: bytes, secret: str) -> str:
    """The header value a sender puts on `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac_sha256_hex(secret, body)


def _signature_ok(request: HttpRequest) -> bool:
    secret = settings.TELEPHONY_WEBHOOK_SECRET
    given = request.headers.get(SIGNATURE_HEADER, "")
    return bool(secret) and secret_matches(given, signature_for(request.body, secret))


def _text(data: dict, field: str, *, required: bool = True, max_length: int = 255) -> str:
    return bounded_text(data.get(field), field, max_length=max_length, required=required)


def _event(data: dict) -> CallEvent:
    direction = _text(data, "direction")
    if direction not in CallLog.Direction.values:
        raise Malformed("direction", "must be inbound or outbound")
    started_at = iso_moment(_text(data, "started_at"), "started_at")
    if started_at is None:
        raise Malformed("started_at", "must be an ISO 8601 date and time")
    duration = data.get("duration")
    if duration is not None and (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not 0 <= duration <= MAX_CALL_SECONDS
    ):
        raise Malformed("duration", f"must be a number of seconds from 0 to {MAX_CALL_SECONDS}")
    recording_url = _text(data, "recording_url", required=False, max_length=1000)
    if recording_url:
        try:
            URLValidator(schemes=["http", "https"])(recording_url)
        except ValidationError:
            raise Malformed("recording_url", "must be an http(s) URL") from None
    return CallEvent(
        provider=_text(data, "provider", required=False, max_length=30) or DEFAULT_PROVIDER,
        call_id=_text(data, "call_id"),
        direction=direction,
        status=_text(data, "status", max_length=30).lower(),
        from_number=_text(data, "from", max_length=40),
        to_number=_text(data, "to", max_length=40),
        started_at=started_at,
        duration_seconds=None if duration is None else int(duration),
        recording_url=recording_url,
        payload=_payload(data),
    )


def _payload(data: dict) -> dict:
    # Kept on the row for the agent's reference; the fields used above have their own columns.
    return {key: value for key, value in data.items() if isinstance(key, str)}


def _bad_request(exc: Malformed) -> JsonResponse:
    # This hook's top-level message names the field too: "duration: must be a number …".
    return invalid_payload(exc.field, exc.message, summary=f"{exc.field}: {exc.message}")


@signed_post_view(
    verified=_signature_ok,
    refusal=f"missing or wrong {SIGNATURE_HEADER} "
    "(sha256=<hex HMAC-SHA256 of the body with the shared secret>)",
    on_malformed=_bad_request,
)
def call_event(request: HttpRequest) -> JsonResponse:
    try:
        data = json_object(request.body)
    except Malformed as exc:
        if exc.field != "body":
            raise
        raise Malformed("body", "must be a JSON object") from None
    call = call_event_record(event=_event(data))
    return JsonResponse(
        {"id": call.pk, "status": call.status, "customer_matched": call.customer_id is not None}
    )


urlpatterns = [path("call", call_event, name="telephony-call")]
