"""WhatsApp Business Cloud API: approved templates outside the 24-hour window, free text inside it.

`POST {WHATSAPP_BASE_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages` with the system user's token. The
policy (channels/services/policy.py) has already refused sends without opt-in and free text
outside the customer service window; a message whose payload carries
`{"template": {"name", "language", "params": [...]}}` goes as that template, any other as text.

Graph API errors come back as HTTP 400 with `{"error": {"code", "message", ...}}` whatever their
nature, so the error code, not the HTTP status, decides whether a retry can help: throughput and
spam-rate limits are temporary, a re-engagement refusal (131047) or an undeliverable number
(131026) is not.
"""

from __future__ import annotations

from typing import Any

import requests

from channels.models import Message
from channels.providers.base import Provider, ProviderError, SendResult
from channels.providers.http import json_object, pooled_session, request

# Graph / Cloud API error codes worth retrying: rate limits (app, WABA, phone number throughput,
# spam rate, business-user pair) and Meta's own temporary failures.
TEMPORARY_ERROR_CODES = frozenset(
    {
        1,  # API unknown (Meta: "may be a temporary outage")
        2,  # API service temporarily unavailable
        4,  # API too many calls (app rate limit)
        80007,  # WABA rate limit
        130429,  # Cloud API throughput reached
        131000,  # something went wrong
        131016,  # service unavailable
        131048,  # spam rate limit hit
        131056,  # too many messages to this recipient in a short time
        133004,  # server temporarily unavailable
    }
)


class WhatsAppProvider(Provider):
    name = "whatsapp"
    channel = "whatsapp"
    settings_required = ("WHATSAPP_BASE_URL", "WHATSAPP_TOKEN", "WHATSAPP_PHONE_NUMBER_ID")
    # The Cloud API has no idempotency key; biz_opaque_callback_data only comes back in
    # status webhooks (which settle an unconfirmed message), it does not stop a second send.
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        base = config["WHATSAPP_BASE_URL"].rstrip("/")
        self.url = f"{base}/{config['WHATSAPP_PHONE_NUMBER_ID']}/messages"
        self.session = pooled_session(
            headers={"Authorization": f"Bearer {config['WHATSAPP_TOKEN']}"}
        )

    def send(self, message: Message) -> SendResult:
        try:
            response = request(
                self.session,
                "POST",
                self.url,
                json=whatsapp_request_body(message),
                describe_error=_describe_error,
            )
        except ProviderError as exc:
            code = _graph_error(exc.response).get("code")
            if code is None:
                raise
            raise exc.with_gateway_code(code, temporary_codes=TEMPORARY_ERROR_CODES) from exc
        try:
            return SendResult(provider_message_id=str(response.json()["messages"][0]["id"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # Accepted, but we cannot tell which id its callbacks will carry: retrying would send
            # it twice, so the message fails with the body for someone to look at.
            raise ProviderError(
                f"unexpected answer without messages[0].id: {response.text[:200]}",
                permanent=True,
                code="bad_response",
            ) from exc

    def close(self) -> None:
        self.session.close()


def whatsapp_request_body(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.address.lstrip("+"),
        # Echoed in Meta's status webhooks: settles a message whose send answer never came back.
        "biz_opaque_callback_data": str(message.pk),
    }
    template = message.payload.get("template")
    if template:
        body["type"] = "template"
        body["template"] = _template(template)
    else:
        body["type"] = "text"
        body["text"] = {"body": message.body, "preview_url": False}
    return body


def _template(template: dict[str, Any]) -> dict[str, Any]:
    name = template.get("name") if isinstance(template, dict) else None
    language = template.get("language") if isinstance(template, dict) else None
    if not name or not language:
        raise ProviderError(
            "payload.template needs a name and a language (e.g. {'name': 'order_ready', "
            "'language': 'ru', 'params': [...]})",
            permanent=True,
            code="bad_template",
        )
    out: dict[str, Any] = {"name": name, "language": {"code": language}}
    if template.get("components"):
        # Headers, buttons and currency parameters: passed through in Meta's own shape.
        out["components"] = template["components"]
    elif template.get("params"):
        out["components"] = [
            {
                "type": "body",
                "parameters": [
                    param if isinstance(param, dict) else {"type": "text", "text": str(param)}
                    for param in template["params"]
                ],
            }
        ]
    return out


def _graph_error(response: requests.Response | None) -> dict[str, Any]:
    """The `error` object of a Graph API error answer ({} when there is none)."""
    error = json_object(response).get("error")
    return error if isinstance(error, dict) else {}


def _describe_error(response: requests.Response) -> str:
    error = _graph_error(response)
    if not error:
        return ""
    details = (error.get("error_data") or {}).get("details", "")
    reason = f"{error.get('message', '')} (code {error.get('code')})"
    return f"{reason}: {details}" if details else reason
