"""Webhooks from Twilio: SMS status callbacks and inbound SMS, both signed with X-Twilio-Signature.

Twilio signs the URL it called, so the URL is rebuilt from PUBLIC_BASE_URL and the request path
(with its query string), not from the Host header: behind a proxy or load balancer the Host
Django sees is not the one Twilio used. Configure the inbound URL in the Twilio console as
`{PUBLIC_BASE_URL}/hooks/twilio/inbound`; the status URL is sent with every message.

- `POST /hooks/twilio/status`: `MessageSid`, `MessageStatus`, `ErrorCode`?; applied forward-only.
- `POST /hooks/twilio/inbound`: `MessageSid`, `From`, `To`, `Body`; handed to `inbound_receive`,
  answered with empty TwiML (any reply goes out as its own message, through message_send).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from channels.hooks.common import Malformed, secret_matches, signed_post_view
from channels.models import MessageStatus
from channels.providers.twilio import twilio_signature
from channels.services.status import message_status_apply_by_provider_id

PROVIDER = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# Twilio message statuses → Kaskad's. Earlier states (accepted, queued, sending, scheduled)
# change nothing: the message is already `sent` once Twilio took it.
STATUS_MAP: dict[str, str] = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.OPENED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


def _signature_ok(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        return False
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    params = {name: request.POST.getlist(name) for name in request.POST}
    given = request.headers.get("X-Twilio-Signature", "")
    return secret_matches(given, twilio_signature(url, params, token))


twilio_callback = signed_post_view(
    verified=_signature_ok, refusal="missing or wrong X-Twilio-Signature"
)


def _required(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "").strip()
    if not value:
        raise Malformed(name, f"{name} is required")
    return value


@twilio_callback
def status_callback(request: HttpRequest) -> JsonResponse:
    sid = _required(request, "MessageSid")
    raw_status = _required(request, "MessageStatus")
    status = STATUS_MAP.get(raw_status.lower())
    if status is None:
        return JsonResponse({"applied": False, "reason": f"status {raw_status!r} changes nothing"})
    reason = ""
    if status == MessageStatus.FAILED:
        code = request.POST.get("ErrorCode", "").strip()
        detail = request.POST.get("ErrorMessage", "").strip()
        reason = f"twilio: {raw_status}" + (f" (error {code})" if code else "")
        reason += f": {detail}" if detail else ""
    applied = message_status_apply_by_provider_id(
        provider=PROVIDER,
        provider_message_id=sid,
        status=status,
        reason=reason,
        reference=request.GET.get("message", ""),  # ours, in the signed StatusCallback URL
    )
    return JsonResponse({"applied": applied})


@twilio_callback
def inbound_callback(request: HttpRequest) -> HttpResponse:
    sid = _required(request, "MessageSid")
    sender = _required(request, "From")
    # Imported here: the inbound service belongs to the conversations part of channels.
    from channels.services.inbound import inbound_receive

    inbound_receive(
        channel="sms",
        provider=PROVIDER,
        address=sender,
        body=request.POST.get("Body", ""),
        provider_message_id=sid,
        payload={name: request.POST.get(name) for name in request.POST},
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


urlpatterns = [
    path("status", status_callback, name="twilio-status"),
    path("inbound", inbound_callback, name="twilio-inbound"),
]
