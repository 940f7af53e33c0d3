"""Web push (RFC 8030) to browsers, encrypted (RFC 8291, aes128gcm) and signed with VAPID (RFC 8292).

pywebpush encrypts the payload for the subscription's keys, and channels/providers/http.request
posts it to the endpoint the browser gave us, over our pooled session. A batch reads the
subscriptions of all its messages in one query. The VAPID JWT is signed once per push service
origin and reused until an hour before it expires (12 hours), so a batch to one service signs once.

Answers from the push service, classified by http.request except the first two:
- 201 (any 2xx): accepted; the `Location` header names the push message resource and is kept as
  the provider id (a generated id when there is none).
- 404 / 410: the subscription has expired or was revoked, permanently. The message fails and the
  subscription is forgotten (see channels/services/push.py).
- 429 (with Retry-After), 408, 425 and 5xx, timeouts: temporary, retried by delivery.
- other 4xx (400 bad request, 403 VAPID key mismatch, 413 payload too large): permanent.

Settings: VAPID_PRIVATE_KEY (base64url raw 32-byte key, base64url DER, or PEM), VAPID_SUBJECT
(`mailto:` address or https URL) and VAPID_PUBLIC_KEY (what browsers subscribe with; checked
against the private key so a mismatch is reported as "not configured" rather than as 403s).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from channels.models import PushSubscription
from channels.providers.base import (
    Provider,
    ProviderError,
    ProviderNotConfigured,
    SendOutcome,
    SendResult,
)
from channels.providers.http import pooled_session, request

if TYPE_CHECKING:
    from channels.models import Message

DEFAULT_TTL_SECONDS = 24 * 3600  # how long the push service keeps it for an offline browser
VAPID_LIFETIME_SECONDS = 12 * 3600  # push services refuse tokens valid for more than 24 hours
VAPID_RENEW_BEFORE_SECONDS = 3600
GONE_STATUSES = (404, 410)
# Optional presentation fields a message's payload may carry into the notification.
NOTIFICATION_FIELDS = ("url", "icon", "image", "badge", "tag", "data")


class WebPushProvider(Provider):
    name = "webpush"
    channel = "push"
    settings_required = ("VAPID_PRIVATE_KEY", "VAPID_SUBJECT")
    # Push services have no idempotency key (Topic only replaces undelivered ones).
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        self.vapid = _load_vapid(config["VAPID_PRIVATE_KEY"])
        subject = config["VAPID_SUBJECT"].strip()
        if "@" in subject and not subject.startswith("mailto:"):
            subject = f"mailto:{subject}"
        self.subject = subject
        self.public_key = _b64url(
            self.vapid.public_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.session = pooled_session()
        self._tokens: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> Provider:
        provider = super().from_settings()
        assert isinstance(provider, WebPushProvider)
        configured_public = (settings.VAPID_PUBLIC_KEY or "").strip().rstrip("=")
        if configured_public and configured_public != provider.public_key:
            provider.close()
            raise ProviderNotConfigured(
                "webpush is not configured: VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY"
            )
        return provider

    def send(self, message: Message) -> SendResult:
        subscriptions = _subscriptions([message.address])
        return self._push(message, subscriptions.get(message.address))

    def send_many(self, messages: Iterable[Message]) -> Iterator[SendOutcome]:
        """Send a batch over the pooled session, reading all its subscriptions in one query;
        each outcome is yielded as it comes."""
        messages = list(messages)
        subscriptions = _subscriptions({message.address for message in messages})
        for message in messages:
            try:
                result = self._push(message, subscriptions.get(message.address))
            except ProviderError as exc:
                yield SendOutcome(message.pk, error=exc)
            else:
                yield SendOutcome(message.pk, result=result)

    def _push(self, message: Message, subscription: PushSubscription | None) -> SendResult:
        from channels.services.push import push_subscription_forget

        if subscription is None or not (subscription.p256dh and subscription.auth):
            raise ProviderError(
                "no web push subscription for this address (unsubscribed?)",
                permanent=True,
                code="no_subscription",
            )
        endpoint = message.address
        body = _encrypt(notification_payload(message), subscription)
        headers = {
            **self._vapid_headers(endpoint),
            "Content-Encoding": "aes128gcm",
            "TTL": str(_ttl(message)),
            "Urgency": _urgency(message),
        }
        try:
            response = request(self.session, "POST", endpoint, data=body, headers=headers)
        except ProviderError as exc:
            if exc.response is None or exc.response.status_code not in GONE_STATUSES:
                raise
            push_subscription_forget(address=endpoint)
            raise ProviderError(
                f"subscription expired or unsubscribed ({exc.reason}); removed it",
                permanent=True,
                code=exc.code,
                response=exc.response,
            ) from exc
        return SendResult(provider_message_id=_provider_id(response))

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        """`Authorization: vapid t=<JWT>,k=<public key>` for the endpoint's origin, cached."""
        audience = _origin(endpoint)
        now = time.time()
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is not None and cached[0] - now > VAPID_RENEW_BEFORE_SECONDS:
                return cached[1]
            expires = int(now) + VAPID_LIFETIME_SECONDS
            headers = self.vapid.sign({"aud": audience, "exp": expires, "sub": self.subject})
            self._tokens[audience] = (expires, headers)
            return headers

    def close(self) -> None:
        self.session.close()


def notification_payload(message: Message) -> dict:
    """What the service worker receives (after decryption) and shows."""
    payload = {"title": message.subject, "body": message.body, "message_id": message.pk}
    for field in NOTIFICATION_FIELDS:
        value = message.payload.get(field)
        if value:
            payload[field] = value
    return payload


def _subscriptions(addresses: Iterable[str]) -> dict[str, PushSubscription]:
    # Imported here: services import the providers registry.
    from channels.services.push import push_subscriptions_for_addresses

    return push_subscriptions_for_addresses(addresses)


def _encrypt(payload: dict, subscription: PushSubscription) -> bytes:
    """The payload encrypted for the browser's keys (RFC 8291, aes128gcm)."""
    keys = {"p256dh": subscription.p256dh, "auth": subscription.auth}
    try:
        pusher = WebPusher({"endpoint": subscription.identity.address, "keys": keys})
        return pusher.encode(json.dumps(payload, ensure_ascii=False).encode(), "aes128gcm")["body"]
    except Exception as exc:  # pywebpush, base64 and cryptography raise several kinds for bad keys
        reason = exc.message if isinstance(exc, WebPushException) else f"{exc!r}"
        raise ProviderError(
            f"cannot encrypt for this subscription's keys: {reason}",
            permanent=True,
            code="invalid_keys",
        ) from exc


def _ttl(message: Message) -> int:
    try:
        return max(0, int(message.payload.get("ttl") or DEFAULT_TTL_SECONDS))
    except (TypeError, ValueError):
        return DEFAULT_TTL_SECONDS


def _urgency(message: Message) -> str:
    # RFC 8030 §5.3: lets a phone on battery hold back what can wait.
    return "high" if message.category == "transactional" else "normal"


def _provider_id(response: requests.Response) -> str:
    location = response.headers.get("Location", "")
    if location and len(location) > 255:
        location = location.rstrip("/").rsplit("/", 1)[-1][-255:]
    return location or f"webpush-{uuid.uuid4().hex}"


def _origin(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    return f"{parsed.scheme}://{parsed.netloc}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_vapid(private_key: str) -> Vapid:
    key = private_key.strip()
    try:
        if key.startswith("-----BEGIN"):
            return Vapid.from_pem(key.encode())
        return Vapid.from_string(key)
    except Exception as exc:  # py_vapid raises several kinds for a malformed key
        raise ProviderNotConfigured(
            f"webpush is not configured: VAPID_PRIVATE_KEY is not a valid key ({exc})"
        ) from exc
