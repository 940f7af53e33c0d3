"""Viber REST Bot API: `send_message` to a subscribed Viber user, by their Viber user id.

Viber answers HTTP 200 for API errors too; the JSON `status` says what happened (0 is ok). Only a
rate-control breach (12) and Viber's unlisted general errors are worth retrying; the rest name a
receiver who is not on Viber or not subscribed, or a misconfigured bot, and a retry cannot fix them.
"""

from __future__ import annotations

from typing import Any

import requests

from channels.models import Message
from channels.providers.base import Provider, ProviderError, SendResult
from channels.providers.http import pooled_session, request

# https://developers.viber.com/docs/api/rest-bot-api/#error-codes
VIBER_STATUSES = {
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "receiverNotSubscribed",
    7: "publicAccountBlocked",
    8: "publicAccountNotFound",
    9: "publicAccountSuspended",
    10: "webhookNotSet",
    11: "receiverNoSuitableDevice",
    12: "tooManyRequests",
    13: "apiVersionNotSupported",
    14: "incompatibleWithVersion",
    15: "publicAccountNotAuthorized",
    16: "inchatReplyMessageNotAllowed",
    17: "publicAccountIsNotInline",
    18: "noPublicChat",
    19: "cannotSendBroadcast",
    20: "broadcastNotAllowed",
    21: "unsupportedCountry",
    22: "paymentUnsupported",
    23: "freeMessagesExceeded",
    24: "noBalance",
}
TEMPORARY_STATUSES = frozenset({12})
SENDER_NAME_MAX = 28  # Viber's limit for sender.name


class ViberProvider(Provider):
    name = "viber"
    channel = "viber"
    settings_required = ("VIBER_BASE_URL", "VIBER_AUTH_TOKEN", "VIBER_SENDER_NAME")
    # send_message has no idempotency key; its delivered callbacks carry only its own token.
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        self.url = f"{config['VIBER_BASE_URL'].rstrip('/')}/send_message"
        self.sender_name = config["VIBER_SENDER_NAME"][:SENDER_NAME_MAX]
        self.session = pooled_session(headers={"X-Viber-Auth-Token": config["VIBER_AUTH_TOKEN"]})

    def send(self, message: Message) -> SendResult:
        response = request(
            self.session,
            "POST",
            self.url,
            json=self.request_body(message),
            describe_error=_describe_error,
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or "status" not in data:
            raise ProviderError(
                f"unexpected answer: {response.text[:200]}", permanent=True, code="bad_response"
            )
        status = data["status"]
        if status != 0:
            name = VIBER_STATUSES.get(status, "generalError")
            detail = data.get("status_message") or name
            raise ProviderError(
                f"status {status} {name}: {detail}"
                if detail != name
                else f"status {status} {name}",
                # An unlisted status is Viber's "general error": try again rather than give up.
                permanent=status in VIBER_STATUSES and status not in TEMPORARY_STATUSES,
                code=str(status),
            )
        if data.get("message_token") is None:
            raise ProviderError(
                f"unexpected answer without message_token: {response.text[:200]}",
                permanent=True,
                code="bad_response",
            )
        return SendResult(provider_message_id=str(data["message_token"]))

    def request_body(self, message: Message) -> dict[str, Any]:
        return {
            "receiver": message.address,
            "min_api_version": 1,
            "sender": {"name": self.sender_name},
            "type": "text",
            "text": message.body,
        }

    def close(self) -> None:
        self.session.close()


def _describe_error(response: requests.Response) -> str:
    data = response.json()
    return str(data.get("status_message") or "") if isinstance(data, dict) else ""
