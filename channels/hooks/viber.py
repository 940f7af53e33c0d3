"""`/hooks/viber/`: callbacks from the Viber REST Bot API.

Viber signs every callback: `X-Viber-Content-Signature` is the hex HMAC-SHA256 of the raw body
keyed with the bot's auth token (VIBER_AUTH_TOKEN); without it nothing is accepted.

- `delivered`, `seen` (→ opened) and `failed` move the message with that `message_token` forward;
- `message` is an inbound message from the Viber user `sender.id` (their Viber identity);
- `unsubscribed` opts that user's customer out of Viber, `subscribed` opts them back in;
- `webhook` (Viber checking the URL on `set_webhook`), `conversation_started` and unknown events
  are acknowledged and ignored.

Viber retries a callback that did not get a 200; statuses only move forward and inbound messages
are unique by their message token, so a repeat changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from channels.hooks.common import (
    Malformed,
    bounded_text,
    consent_set_by_address,
    hmac_sha256_hex,
    json_object,
    secret_matches,
    signed_post_view,
    unix_time,
)
from channels.models import MessageStatus
from channels.services.status import message_status_apply_by_provider_id
from customers.models import Channel, ConsentStatus

PROVIDER = "viber"
MAX_ID_LENGTH = 255
STATUS_EVENTS = {
    "delivered": MessageStatus.DELIVERED,
    "seen": MessageStatus.OPENED,
    "failed": MessageStatus.FAILED,
}
CONSENT_EVENTS = {"subscribed": ConsentStatus.OPTED_IN, "unsubscribed": ConsentStatus.OPTED_OUT}


def _verified(request: HttpRequest) -> bool:
    return viber_signature_valid(request.body, request.headers.get("X-Viber-Content-Signature", ""))


@signed_post_view(verified=_verified, refusal="X-Viber-Content-Signature is missing or wrong.")
def viber_webhook(request: HttpRequest) -> HttpResponse:
    # Each handler checks its fields (raising Malformed) before it writes anything.
    callback = _callback(request.body)
    event = callback["event"]
    if event in STATUS_EVENTS:
        _apply_status(callback, STATUS_EVENTS[event])
    elif event == "message":
        _receive(callback)
    elif event in CONSENT_EVENTS:
        _apply_consent(callback, CONSENT_EVENTS[event])
    return JsonResponse({"ok": True})


def viber_signature(body: bytes, auth_token: str) -> str:
    return hmac_sha256_hex(auth_token, body)


def viber_signature_valid(body: bytes, header: str) -> bool:
    token = settings.VIBER_AUTH_TOKEN
    return bool(token) and secret_matches(header.strip().lower(), viber_signature(body, token))


def _apply_status(callback: dict[str, Any], status: str) -> None:
    # Unknown tokens (sent before Kaskad, or by another tool on the same bot) are ignored.
    message_status_apply_by_provider_id(
        provider=PROVIDER,
        provider_message_id=_token(callback),
        status=status,
        occurred_at=_timestamp(callback),
        reason=str(callback.get("desc") or "failed") if status == MessageStatus.FAILED else "",
    )


def _receive(callback: dict[str, Any]) -> None:
    from channels.services.inbound import inbound_receive

    sender = callback.get("sender")
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), str):
        raise Malformed("sender.id", "is required")
    address = bounded_text(sender["id"], "sender.id", max_length=MAX_ID_LENGTH)
    message = callback.get("message")
    if not isinstance(message, dict):
        raise Malformed("message", "is required and must be an object")
    text = message.get("text", "")
    if not isinstance(text, str):
        raise Malformed("message.text", "must be a string")
    inbound_receive(
        channel=Channel.VIBER,
        provider=PROVIDER,
        address=address,
        body=text,
        provider_message_id=_token(callback),
        payload={"sender": sender, "message": message},
        received_at=_timestamp(callback),
    )


def _apply_consent(callback: dict[str, Any], status: str) -> None:
    if callback["event"] == "subscribed":
        user = callback.get("user")
        user_id = user.get("id") if isinstance(user, dict) else None
        field = "user.id"
    else:
        user_id, field = callback.get("user_id"), "user_id"
    if not isinstance(user_id, str):
        raise Malformed(field, "is required")
    user_id = bounded_text(user_id, field, max_length=MAX_ID_LENGTH)
    # Someone who is not a customer yet is left alone: their first message makes them one (see
    # inbound_receive).
    consent_set_by_address(
        channel=Channel.VIBER, address=user_id, status=status, source=f"viber:{callback['event']}"
    )


def _callback(raw: bytes) -> dict[str, Any]:
    callback = json_object(raw)
    if not isinstance(callback.get("event"), str):
        raise Malformed("event", "is required")
    return callback


def _token(callback: dict[str, Any]) -> str:
    return bounded_text(callback.get("message_token"), "message_token", max_length=MAX_ID_LENGTH)


def _timestamp(callback: dict[str, Any]) -> datetime | None:
    value = callback.get("timestamp")
    if value is None:
        return None
    return unix_time(value, "timestamp", per_second=1000)


urlpatterns = [path("", viber_webhook, name="hooks-viber")]
