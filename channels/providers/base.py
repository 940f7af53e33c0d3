"""What every gateway plug-in implements, and the errors that decide retry or failure.

A provider turns a queued `Message` into a request to its gateway. `send()` returns the gateway's
id for the message, or raises `ProviderError`: `permanent=True` fails the message at once with the
gateway's reason (an invalid number, a blocked recipient); otherwise the send is retried with
backoff and, after the last retry, handed to the channel's failover provider (5xx, timeouts, 429).
An error raised for a gateway's HTTP answer carries that answer as `response`, so a provider can
read the gateway's own error code from its body instead of parsing the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import requests

    from channels.models import Message

logger = logging.getLogger(__name__)


class ProviderError(Exception):
    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        code: str = "",
        retry_after: float | None = None,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after  # seconds the gateway asked us to wait (429 Retry-After)
        # The gateway's non-2xx answer, when there was one (None for timeouts, refused
        # connections and errors a provider finds in a 2xx answer).
        self.response = response

    def with_gateway_code(self, code: object, *, temporary_codes: frozenset) -> ProviderError:
        """The same error under the gateway's own error code, which is more telling than the HTTP
        status: temporary when that code says so, even on a 4xx."""
        return ProviderError(
            self.reason,
            permanent=self.permanent and code not in temporary_codes,
            code=str(code),
            retry_after=self.retry_after,
            response=self.response,
        )


class ProviderNotConfigured(Exception):
    """The provider lacks credentials; its sends are suppressed with this reason."""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    parts: int | None = None  # SMS parts the gateway will bill


@dataclass(frozen=True)
class SendOutcome:
    """The result of one message in a `send_many` batch: a SendResult or the error it raised."""

    message_id: int
    result: SendResult | None = None
    error: ProviderError | None = None


class Provider:
    """Base class: subclasses set `name`, `channel`, `settings_required` and implement `send()`."""

    name: ClassVar[str]
    channel: ClassVar[str]
    # Django settings that must be non-empty for the provider to be configured.
    settings_required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config

    @classmethod
    def from_settings(cls) -> Provider:
        from django.conf import settings

        config = {key: getattr(settings, key, "") or "" for key in cls.settings_required}
        missing = [key for key, value in config.items() if not value]
        if missing:
            raise ProviderNotConfigured(f"{cls.name} is not configured: set {', '.join(missing)}")
        return cls(config)

    def send(self, message: Message) -> SendResult:
        raise NotImplementedError

    def send_many(self, messages: Iterable[Message]) -> list[SendOutcome]:
        """Send several messages; providers with a pooled connection override it to reuse one."""
        outcomes = []
        for message in messages:
            try:
                outcomes.append(SendOutcome(message.pk, result=self.send(message)))
            except ProviderError as exc:
                outcomes.append(SendOutcome(message.pk, error=exc))
            except Exception as exc:
                # A bug or an odd answer while sending one message must not lose the outcomes of
                # the messages already sent in this batch: they would be sent again.
                logger.exception("%s: unexpected error sending message %s", self.name, message.pk)
                error = ProviderError(f"{type(exc).__name__}: {exc}", permanent=False)
                outcomes.append(SendOutcome(message.pk, error=error))
        return outcomes

    def close(self) -> None:
        """Release pooled connections (called when a worker shuts down or settings change)."""
