"""`/hooks/whatsapp/`: the WhatsApp Cloud API webhook (Meta's verification handshake, delivery
statuses and inbound messages).

GET is Meta's subscription handshake: `hub.verify_token` must equal WHATSAPP_VERIFY_TOKEN and we
echo `hub.challenge`. POST bodies are signed: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
raw body keyed with WHATSAPP_APP_SECRET>`; without the app secret nothing is accepted.

The whole body is read and checked before anything is written, so a malformed item (400) leaves
nothing half-applied. Meta repeats a callback until it gets a 200; repeats are no-ops (statuses
move forward only, inbound messages are unique by their wamid).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels.hooks.common import (
    Malformed,
    hmac_sha256_hex,
    invalid_signature,
    json_object,
    malformed_response,
    secret_matches,
)
from channels.models import MessageStatus
from channels.services.status import message_status_apply_by_provider_id
from customers.models import Channel

logger = logging.getLogger(__name__)

PROVIDER = "whatsapp"
# Meta's statuses → ours. "read" is the WhatsApp blue ticks: the customer opened it.
STATUS_MAP = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.OPENED,
    "played": MessageStatus.OPENED,  # a voice message was played
    "failed": MessageStatus.FAILED,
}


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str
    occurred_at: datetime | None
    reason: str
    reference: str = ""  # biz_opaque_callback_data: our message id, sent with the message


@dataclass(frozen=True)
class Inbound:
    address: str
    body: str
    provider_message_id: str
    payload: dict[str, Any]
    received_at: datetime | None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verification(request)
    if not whatsapp_signature_valid(request.body, request.headers.get("X-Hub-Signature-256", "")):
        return invalid_signature("X-Hub-Signature-256 is missing or wrong.")
    try:
        statuses, inbound = whatsapp_parse(request.body)
    except Malformed as exc:
        return malformed_response(exc)
    from channels.services.inbound import inbound_receive

    with transaction.atomic():
        for update in statuses:
            # Unknown ids (another app on the same WABA, an erased customer) are ignored.
            message_status_apply_by_provider_id(
                provider=PROVIDER,
                provider_message_id=update.provider_message_id,
                status=update.status,
                occurred_at=update.occurred_at,
                reason=update.reason,
                reference=update.reference,
            )
        for item in inbound:
            inbound_receive(
                channel=Channel.WHATSAPP,
                provider=PROVIDER,
                address=item.address,
                body=item.body,
                provider_message_id=item.provider_message_id,
                payload=item.payload,
                received_at=item.received_at,
            )
    return JsonResponse({"ok": True})


def _verification(request: HttpRequest) -> HttpResponse:
    given = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") != "subscribe" or not secret_matches(
        given, settings.WHATSAPP_VERIFY_TOKEN
    ):
        return invalid_signature("hub.verify_token does not match.")
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")


def whatsapp_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac_sha256_hex(secret, body)


def whatsapp_signature_valid(body: bytes, header: str) -> bool:
    secret = settings.WHATSAPP_APP_SECRET
    return bool(secret) and secret_matches(header.strip().lower(), whatsapp_signature(body, secret))


def whatsapp_parse(raw: bytes) -> tuple[list[StatusUpdate], list[Inbound]]:
    """Read a Meta webhook body into status updates and inbound messages, or raise Malformed."""
    data = json_object(raw)
    entries = _list(data.get("entry", []), "entry")
    statuses: list[StatusUpdate] = []
    inbound: list[Inbound] = []
    for i, entry in enumerate(entries):
        changes = _list(_dict(entry, f"entry[{i}]").get("changes", []), f"entry[{i}].changes")
        for j, change in enumerate(changes):
            where = f"entry[{i}].changes[{j}].value"
            value = _dict(_dict(change, f"entry[{i}].changes[{j}]").get("value", {}), where)
            for k, status in enumerate(_list(value.get("statuses", []), f"{where}.statuses")):
                update = _status(_dict(status, f"{where}.statuses[{k}]"), f"{where}.statuses[{k}]")
                if update is not None:
                    statuses.append(update)
            contacts = {
                c.get("wa_id"): c
                for c in _list(value.get("contacts", []), f"{where}.contacts")
                if isinstance(c, dict)
            }
            for k, message in enumerate(_list(value.get("messages", []), f"{where}.messages")):
                inbound.append(
                    _inbound(
                        _dict(message, f"{where}.messages[{k}]"), f"{where}.messages[{k}]", contacts
                    )
                )
            for error in value.get("errors", []) or []:
                logger.warning("whatsapp webhook reports an error: %s", error)
    return statuses, inbound


def _status(status: dict[str, Any], where: str) -> StatusUpdate | None:
    message_id = _required_str(status, "id", where)
    name = _required_str(status, "status", where)
    ours = STATUS_MAP.get(name)
    if ours is None:
        return None  # "deleted", "warning" and future ones say nothing about delivery
    reason = _failure_reason(status) if ours == MessageStatus.FAILED else ""
    reference = status.get("biz_opaque_callback_data")
    reference = reference if isinstance(reference, str) else ""
    return StatusUpdate(message_id, ours, _timestamp(status, where), reason, reference[:64])


def _failure_reason(status: dict[str, Any]) -> str:
    """ "<code> <title>: <details>" from Meta's first error, e.g. "131026 Message undeliverable"."""
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return "failed"
    data = first.get("error_data")
    details = data.get("details", "") if isinstance(data, dict) else ""
    title = first.get("title") or first.get("message") or "failed"
    reason = f"{first.get('code', '')} {title}".strip()
    return f"{reason}: {details}" if details else reason


def _inbound(message: dict[str, Any], where: str, contacts: dict) -> Inbound:
    sender = _required_str(message, "from", where)
    message_id = _required_str(message, "id", where)
    return Inbound(
        address="+" + sender.lstrip("+"),
        body=_text_of(message),
        provider_message_id=message_id,
        payload={"message": message, "contact": contacts.get(sender) or {}},
        received_at=_timestamp(message, where),
    )


def _text_of(message: dict[str, Any]) -> str:
    """What the customer wrote: text, a tapped button, a list choice or a media caption."""
    kind = message.get("type")
    part = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict):
        return ""
    if kind == "text":
        return str(part.get("body", ""))
    if kind == "button":
        return str(part.get("text", ""))
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return str(reply.get("title", "")) if isinstance(reply, dict) else ""
    return str(part.get("caption", ""))


def _timestamp(item: dict[str, Any], where: str) -> datetime | None:
    value = item.get("timestamp")
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise Malformed(f"{where}.timestamp", "must be Unix seconds") from None


def _required_str(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str | int) or value == "":
        raise Malformed(f"{where}.{key}", "is required")
    return str(value)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise Malformed(where, "must be a list")
    return value


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise Malformed(where, "must be an object")
    return value


urlpatterns = [path("", whatsapp_webhook, name="hooks-whatsapp")]
