"""SMS through MTS Exolve: `POST {EXOLVE_BASE_URL}/messaging/v1/SendSMS`.

The request is JSON `{"number": sender, "destination": recipient, "text": body}` with
`Authorization: Bearer {EXOLVE_API_KEY}`; numbers are digits with the country code and no "+"
(`79161234567`), the sender may also be a registered alpha name. The answer is
`{"message_id": "…"}`; an error answer carries `{"error": {"message": "…"}}`, whose message becomes
the failure reason. Delivery reports and inbound SMS arrive at channels/hooks/exolve.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import requests

from channels.providers.base import Provider, ProviderError, SendResult
from channels.providers.http import pooled_session, request
from channels.sms_encoding import sms_size

if TYPE_CHECKING:
    from channels.models import Message

SEND_PATH = "/messaging/v1/SendSMS"
_PHONE = re.compile(r"^\+?\d{7,15}$")


def exolve_number(value: str) -> str:
    """A phone number as Exolve wants it ("+7 916 123-45-67" → "79161234567"); an alpha name
    (a sender like "Kaskad") is returned as it is."""
    compact = re.sub(r"[\s()\-]", "", value)
    if _PHONE.match(compact):
        return compact.lstrip("+")
    return value.strip()


def exolve_error(response: requests.Response) -> str | None:
    """Exolve's reason from an error body: `{"error": {"message": …}}`, or a gRPC-gateway style
    `{"code": 3, "message": …}`."""
    data = response.json()
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("message") or error.get("details") or None
    if isinstance(error, str) and error:
        return error
    return data.get("message") or None


class ExolveSmsProvider(Provider):
    name = "exolve"
    channel = "sms"
    settings_required = ("EXOLVE_BASE_URL", "EXOLVE_API_KEY", "EXOLVE_SENDER")
    # SendSMS takes no client reference; GetList finds SMS by number, not by ours.
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        self.url = config["EXOLVE_BASE_URL"].rstrip("/") + SEND_PATH
        self.sender = exolve_number(config["EXOLVE_SENDER"])
        self.session = pooled_session(
            headers={"Authorization": f"Bearer {config['EXOLVE_API_KEY']}"}
        )

    def send(self, message: Message) -> SendResult:
        destination = exolve_number(message.address)
        if not destination.isdigit():
            raise ProviderError(
                f"not a phone number: {message.address!r}", permanent=True, code="address"
            )
        response = request(
            self.session,
            "POST",
            self.url,
            json={"number": self.sender, "destination": destination, "text": message.body},
            describe_error=exolve_error,
        )
        try:
            message_id = response.json().get("message_id")
        except (ValueError, AttributeError):
            message_id = None
        if not message_id:
            # Accepted without an id: retrying could send it twice, and a delivery report could
            # never be matched, so the message fails with what the gateway said.
            raise ProviderError(
                f"answer without message_id: {response.text[:200]}",
                permanent=True,
                code="no_message_id",
            )
        return SendResult(provider_message_id=str(message_id), parts=sms_size(message.body).parts)

    def close(self) -> None:
        self.session.close()
