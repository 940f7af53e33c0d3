"""SMS through Twilio's Messages resource, and the X-Twilio-Signature its webhooks carry.

`POST {TWILIO_BASE_URL}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json` with HTTP Basic
auth (account SID, auth token) and a form body `To`, `From`, `Body`, `StatusCallback`; the answer
(201) is the message resource, whose `sid` is the provider message id.

Twilio takes no idempotency key for messages, so a send that may have arrived is never resent
blindly (`dedupes_by_reference` is False). Our message id rides in the StatusCallback URL, which
Twilio signs and calls back, so a report settles an unconfirmed message; and `status_lookup` lists
the Messages sent to the number since shortly before the attempt (`GET Messages.json?To=&From=`):
Twilio creates the resource before it answers, so one with our body means it has it, and none in
a list that covers the whole period means it never got it. Errors are JSON
`{"code", "message", "more_info", "status"}`: 4xx are permanent (21211 invalid number, 21610
recipient unsubscribed) except the few codes that mean "not now"; 429 and 5xx are temporary.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import requests
from django.conf import settings

from channels.providers.base import Provider, ProviderError, SendResult, StatusLookup
from channels.providers.http import json_object, pooled_session, request
from channels.sms_encoding import sms_size

if TYPE_CHECKING:
    from channels.models import Message

STATUS_CALLBACK_PATH = "/hooks/twilio/status"
LOOKUP_PAGE_SIZE = 50
# How long before the unconfirmed attempt a lookup searches: Twilio's clock may differ from ours.
LOOKUP_SLACK = timedelta(minutes=10)
# Twilio error codes answered with a 4xx that are worth retrying: 20429 too many requests,
# 21611 the sender's queue is full, 20500/20503 an internal error or service unavailable.
TEMPORARY_CODES = frozenset({20429, 20500, 20503, 21611})


def twilio_signature(url: str, params: Mapping[str, Iterable[str]], auth_token: str) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the full URL followed
    by every POST parameter, sorted by name, as name + value (values of a repeated name sorted)."""
    payload = url
    for name in sorted(params):
        for value in sorted(params[name]):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_error(response: requests.Response) -> str | None:
    data = response.json()
    if not isinstance(data, dict) or not data.get("message"):
        return None
    code = data.get("code")
    return f"{data['message']} (Twilio error {code})" if code else str(data["message"])


class TwilioSmsProvider(Provider):
    name = "twilio"
    channel = "sms"
    settings_required = (
        "TWILIO_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM",
    )
    # Messages.json takes no idempotency key (see status_lookup for what it does offer).
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        sid = config["TWILIO_ACCOUNT_SID"]
        self.url = (
            f"{config['TWILIO_BASE_URL'].rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        )
        self.sender = config["TWILIO_FROM"]
        self.status_callback = settings.PUBLIC_BASE_URL.rstrip("/") + STATUS_CALLBACK_PATH
        self.session = pooled_session()
        self.session.auth = (sid, config["TWILIO_AUTH_TOKEN"])

    def send(self, message: Message) -> SendResult:
        try:
            response = request(
                self.session,
                "POST",
                self.url,
                data={
                    "To": message.address,
                    "From": self.sender,
                    "Body": message.body,
                    # Our reference rides in the URL (which Twilio signs), so a report can settle
                    # a message whose send answer never came back.
                    "StatusCallback": f"{self.status_callback}?message={message.pk}",
                },
                describe_error=twilio_error,
            )
        except ProviderError as exc:
            code = json_object(exc.response).get("code")
            if not isinstance(code, int):
                raise
            raise exc.with_gateway_code(code, temporary_codes=TEMPORARY_CODES) from exc
        try:
            sid = response.json().get("sid")
        except (ValueError, AttributeError):
            sid = None
        if not sid:
            # Accepted without a sid: a retry could send it twice, so fail with what came back.
            raise ProviderError(
                f"answer without sid: {response.text[:200]}", permanent=True, code="no_sid"
            )
        return SendResult(provider_message_id=str(sid), parts=sms_size(message.body).parts)

    def status_lookup(self, message: Message) -> StatusLookup | None:
        from channels.hooks.twilio import STATUS_MAP

        since = message.updated_at - LOOKUP_SLACK
        response = request(
            self.session,
            "GET",
            self.url,
            params={"To": message.address, "From": self.sender, "PageSize": LOOKUP_PAGE_SIZE},
            describe_error=twilio_error,
        )
        listed = json_object(response).get("messages")
        if not isinstance(listed, list):
            return None
        created = {}
        for item in listed:
            if isinstance(item, dict) and (at := _twilio_time(item.get("date_created"))):
                created[id(item)] = at
                if at >= since and item.get("body") == message.body and item.get("sid"):
                    # Twilio has it; its early states (queued, accepted, sending) mean sent.
                    status = STATUS_MAP.get(str(item.get("status")), "sent")
                    return StatusLookup(status, str(item["sid"]), f"twilio: {item.get('status')}")
        covers_period = (
            len(listed) < LOOKUP_PAGE_SIZE or min(created.values(), default=since) < since
        )
        if covers_period:
            return StatusLookup(None, reason=f"none of the messages to {message.address} match")
        return None

    def close(self) -> None:
        self.session.close()


def _twilio_time(value: object) -> datetime | None:
    """Twilio's RFC 2822 dates ("Thu, 30 Jul 2015 20:12:31 +0000")."""
    try:
        return parsedate_to_datetime(value) if isinstance(value, str) else None
    except (TypeError, ValueError):
        return None
