"""Mobile push through Firebase Cloud Messaging, HTTP v1 API.

`POST {FCM_BASE_URL}/v1/projects/{FCM_PROJECT_ID}/messages:send` with
`Authorization: Bearer <OAuth 2.0 access token>` and `{"message": {"token", "notification":
{"title", "body"}, "data": {...}}}`; the answer's `name` ("projects/…/messages/…") is the
provider id.

The access token comes from the service account in FCM_SERVICE_ACCOUNT_FILE through google-auth:
it signs a JWT grant with the account's key and exchanges it at the token endpoint (FCM_TOKEN_URL,
Google's by default; tests point it at a local server). The token is kept until google-auth
considers it near expiry (under four minutes left), so a worker asks for one about once an hour.

Errors, by the `errorCode` FCM puts in `error.details` (falling back to `error.status`):
- UNREGISTERED (404): the app was uninstalled or the token expired: permanent, and the token is
  forgotten like a dead web push subscription.
- INVALID_ARGUMENT (400), SENDER_ID_MISMATCH (403), THIRD_PARTY_AUTH_ERROR (401): permanent.
- QUOTA_EXCEEDED (429, with Retry-After), UNAVAILABLE (503), INTERNAL (500): temporary.
- Any other answer: as channels/providers/http.py classifies its status (429, 408, 425 and 5xx
  temporary, other 4xx permanent).
- A 401 with our own token (revoked or expired early): the token is renewed and the send tried
  once more before it counts as a failure.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import google.auth.exceptions
import requests
from django.conf import settings
from google.auth.transport.requests import Request as GoogleAuthRequest
from google.oauth2 import service_account

from channels.providers.base import Provider, ProviderError, ProviderNotConfigured, SendResult
from channels.providers.http import json_object, pooled_session, request, retry_after_seconds

if TYPE_CHECKING:
    from channels.models import Message

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
PERMANENT_CODES = frozenset(
    {
        "UNREGISTERED",
        "INVALID_ARGUMENT",
        "SENDER_ID_MISMATCH",
        "THIRD_PARTY_AUTH_ERROR",
        "NOT_FOUND",
    }
)
TEMPORARY_CODES = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED"})
FORGET_CODES = frozenset({"UNREGISTERED"})


class FcmProvider(Provider):
    name = "fcm"
    channel = "push"
    settings_required = ("FCM_PROJECT_ID", "FCM_SERVICE_ACCOUNT_FILE")
    # FCM HTTP v1 has no idempotency key (collapse keys only replace undelivered ones).
    dedupes_by_reference = False

    def __init__(self, config: dict[str, str]) -> None:
        super().__init__(config)
        self.credentials = _load_credentials(config["FCM_SERVICE_ACCOUNT_FILE"])
        self.url = (
            f"{settings.FCM_BASE_URL.rstrip('/')}/v1/projects/{config['FCM_PROJECT_ID']}"
            "/messages:send"
        )
        self.session = pooled_session()
        self._auth_request = GoogleAuthRequest(session=self.session)
        self._lock = threading.Lock()

    def access_token(self, *, renew: bool = False) -> str:
        """A valid OAuth 2.0 access token, from cache unless it is near expiry (or `renew`)."""
        with self._lock:
            if renew or not self.credentials.valid:
                try:
                    self.credentials.refresh(self._auth_request)
                except google.auth.exceptions.GoogleAuthError as exc:
                    # Our credentials, not the message: retried, never failed on first sight.
                    raise ProviderError(
                        f"could not get an FCM access token: {exc}", permanent=False, code="auth"
                    ) from exc
            return self.credentials.token

    def send(self, message: Message) -> SendResult:
        try:
            response = self._post({"message": fcm_message(message)})
        except ProviderError as exc:
            if exc.response is None:  # a timeout, a refused connection, no access token
                raise
            raise self._error(exc, message) from exc
        name = json_object(response).get("name")
        if not name:
            raise ProviderError(
                f"FCM accepted the message but gave no name: {response.text[:200]}",
                permanent=True,
                code="no_name",
            )
        return SendResult(provider_message_id=str(name)[:255])

    def _post(self, body: dict[str, Any]) -> requests.Response:
        """POST the message with our access token. A 401 that is not about the message means FCM
        no longer takes our token (revoked, or expired early): renew it and try once more."""
        try:
            return request(self.session, "POST", self.url, json=body, headers=self._auth())
        except ProviderError as exc:
            rejected = exc.response is not None and exc.response.status_code == 401
            if not rejected or _error_code(exc.response) in PERMANENT_CODES:
                raise
        return request(self.session, "POST", self.url, json=body, headers=self._auth(renew=True))

    def _auth(self, *, renew: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(renew=renew)}"}

    def _error(self, exc: ProviderError, message: Message) -> ProviderError:
        """Classify an error answer by FCM's own errorCode; an unknown one as http.request did."""
        from channels.services.push import push_subscription_forget

        response = exc.response
        code = _error_code(response)
        error = json_object(response).get("error") or {}
        text = error.get("message") if isinstance(error, dict) else None
        reason = f"HTTP {response.status_code} {code or ''}: {text or response.text[:300]}"
        if code in FORGET_CODES:
            push_subscription_forget(address=message.address)
            reason += "; removed the token"
        if code in PERMANENT_CODES:
            permanent = True
        elif code in TEMPORARY_CODES:
            permanent = False
        else:
            permanent = exc.permanent
        return ProviderError(
            reason,
            permanent=permanent,
            code=code or str(response.status_code),
            retry_after=retry_after_seconds(response) if not permanent else None,
            response=response,
        )

    def close(self) -> None:
        self.session.close()


def _load_credentials(path: str) -> service_account.Credentials:
    try:
        with open(path, encoding="utf-8") as file:
            info = json.load(file)
        if settings.FCM_TOKEN_URL:
            info["token_uri"] = settings.FCM_TOKEN_URL
        return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProviderNotConfigured(
            f"fcm is not configured: cannot use the service account file {path} ({exc})"
        ) from exc


def fcm_message(message: Message) -> dict[str, Any]:
    """The FCM `message` object. FCM wants every data value as a string."""
    data: dict[str, str] = {"message_id": str(message.pk)}
    extra = message.payload.get("data")
    if isinstance(extra, dict):
        for key, value in extra.items():
            data[str(key)] = value if isinstance(value, str) else json.dumps(value)
    if message.payload.get("url"):
        data["url"] = str(message.payload["url"])
    notification = {"title": message.subject, "body": message.body}
    if message.payload.get("image"):
        notification["image"] = str(message.payload["image"])
    return {"token": message.address, "notification": notification, "data": data}


def _error_code(response: requests.Response | None) -> str:
    """FCM's own errorCode from `error.details`, else the google.rpc status name."""
    error = json_object(response).get("error")
    if not isinstance(error, dict):
        return ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "")
