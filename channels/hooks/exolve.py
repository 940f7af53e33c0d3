"""Webhooks from MTS Exolve: SMS delivery reports and inbound SMS.

Exolve signs nothing, so each callback must prove it knows EXOLVE_WEBHOOK_SECRET: as the query
parameter `secret` (what the callback URL in the Exolve console carries, since Exolve cannot add
headers: `https://kaskad.example/hooks/exolve/status?secret=…`) or, for proxies that can, the
header `X-Webhook-Secret`. Without a configured secret every callback is refused.

- `POST /hooks/exolve/status`: JSON `{"message_id", "status", "date"?, "error"?}`; the status is
  mapped to Kaskad's (delivered, failed, sent) and applied forward-only.
- `POST /hooks/exolve/inbound`: JSON `{"message_id", "sender", "receiver"?, "text", "date"?}`;
  handed to `inbound_receive`, which dedupes on the message id. A message from an alphanumeric
  sender (a service notice, which nobody can answer) is acknowledged and not stored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from channels.hooks.common import (
    Malformed,
    bounded_text,
    iso_moment,
    json_object,
    secret_matches,
    signed_post_view,
)
from channels.models import MessageStatus
from channels.services.status import message_status_apply_by_provider_id

logger = logging.getLogger(__name__)

PROVIDER = "exolve"
SECRET_HEADER = "X-Webhook-Secret"
# What may surround the digits of a phone number as a gateway writes it: "+7 (916) 123-45-67",
# "7.916.123.45.67", with any kind of space.
PHONE_PUNCTUATION = frozenset("+()-.\t\u00a0\u2007\u202f ")
MAX_SENDER_LENGTH = 40
MAX_PHONE_DIGITS = 15  # E.164
MAX_TEXT_LENGTH = 100_000

# Exolve's delivery states (and the SMPP receipt words some routes pass through) → Kaskad's.
# States before the handset (queued, sending) change nothing: the message is already `sent`.
STATUS_MAP: dict[str, str] = {
    "sent": MessageStatus.SENT,
    "submitted": MessageStatus.SENT,
    "accepted": MessageStatus.SENT,
    "acceptd": MessageStatus.SENT,
    "enroute": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "delivrd": MessageStatus.DELIVERED,
    "failed": MessageStatus.FAILED,
    "undelivered": MessageStatus.FAILED,
    "undeliv": MessageStatus.FAILED,
    "not_delivered": MessageStatus.FAILED,
    "rejected": MessageStatus.FAILED,
    "rejectd": MessageStatus.FAILED,
    "expired": MessageStatus.FAILED,
    "error": MessageStatus.FAILED,
}
_STATUS_PREFIXES = ("delivery_status_", "message_status_", "sms_status_", "status_")


def exolve_status(value: object) -> str | None:
    """Kaskad's status for an Exolve state ("DELIVERED", "SMS_STATUS_DELIVERED", "delivered");
    None for a state that changes nothing or that Kaskad does not know."""
    state = str(value).strip().lower()
    for prefix in _STATUS_PREFIXES:
        if state.startswith(prefix):
            state = state[len(prefix) :]
            break
    return STATUS_MAP.get(state)


def _secret_ok(request: HttpRequest) -> bool:
    given = request.headers.get(SECRET_HEADER) or request.GET.get("secret") or ""
    return secret_matches(given, settings.EXOLVE_WEBHOOK_SECRET)


exolve_callback = signed_post_view(
    verified=_secret_ok,
    refusal=f"missing or wrong webhook secret (query parameter `secret` or header {SECRET_HEADER})",
)


def _callback(request: HttpRequest) -> tuple[dict, str]:
    """The callback's JSON object and its message_id, both required by every Exolve callback."""
    try:
        data = json_object(request.body)
    except Malformed as exc:
        if exc.field != "body":
            raise
        raise Malformed("body", "the body must be a JSON object") from None
    message_id = bounded_text(data.get("message_id"), "message_id", max_length=255)
    return data, message_id


def _occurred_at(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return iso_moment(value, "date")  # Exolve reports UTC


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


@exolve_callback
def status_callback(request: HttpRequest) -> JsonResponse:
    data, message_id = _callback(request)
    raw_status = data.get("status", data.get("delivery_status"))
    if raw_status in (None, ""):
        raise Malformed("status", "status is required")
    status = exolve_status(raw_status)
    if status is None:
        return JsonResponse({"applied": False, "reason": f"status {raw_status!r} changes nothing"})
    reason = ""
    if status == MessageStatus.FAILED:
        detail = _text(data.get("error") or data.get("error_message") or data.get("description"))
        reason = f"exolve: {raw_status}" + (f": {detail}" if detail else "")
    applied = message_status_apply_by_provider_id(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=status,
        occurred_at=_occurred_at(data.get("date")),
        reason=reason,
    )
    return JsonResponse({"applied": applied})


@exolve_callback
def inbound_callback(request: HttpRequest) -> JsonResponse:
    data, message_id = _callback(request)
    sender = bounded_text(data.get("sender"), "sender", max_length=MAX_SENDER_LENGTH)
    digits = "".join(ch for ch in sender.removeprefix("tel:") if ch not in PHONE_PUNCTUATION)
    if not (digits.isascii() and digits.isdigit()):
        # An alphanumeric sender ("MTS", "Bank24"): a service notice to our number, which nobody
        # can answer. Acknowledged, so Exolve does not send it again, and not stored.
        logger.info("exolve inbound %s from the name %r: not stored", message_id, sender)
        return JsonResponse(
            {"received": False, "reason": f"sender {sender!r} is a name, not a phone number"}
        )
    if len(digits) > MAX_PHONE_DIGITS:
        raise Malformed("sender", f"a phone number has at most {MAX_PHONE_DIGITS} digits")
    body = bounded_text(data.get("text"), "text", max_length=MAX_TEXT_LENGTH, required=False)
    # Imported here: the inbound service belongs to the conversations part of channels.
    from channels.services.inbound import inbound_receive

    inbound = inbound_receive(
        channel="sms",
        provider=PROVIDER,
        address=f"+{digits}",
        body=body,
        provider_message_id=message_id,
        payload=data,
        received_at=_occurred_at(data.get("date")),
    )
    return JsonResponse({"received": inbound is not None})


urlpatterns = [
    path("status", status_callback, name="exolve-status"),
    path("inbound", inbound_callback, name="exolve-inbound"),
]
