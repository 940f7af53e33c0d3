"""What every gateway plug-in implements, and the errors that decide retry or failure.

A provider turns a queued `Message` into a request to its gateway. `send()` returns the gateway's
id for the message, or raises `ProviderError`: `permanent=True` fails the message at once with the
gateway's reason (an invalid number, a blocked recipient); otherwise the send is retried with
backoff and, after the last retry, handed to the channel's failover provider (5xx, 429, a refused
connection). `uncertain=True` says the request may have reached the gateway (a read timeout, a
connection dropped after the request was written): such a message is not resent blindly but marked
`unconfirmed`, unless the provider's gateway drops a resend by our reference
(`dedupes_by_reference`). An error raised for a gateway's HTTP answer carries that answer as `response`, so a provider can
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
        uncertain: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after  # seconds the gateway asked us to wait (429 Retry-After)
        # The gateway's non-2xx answer, when there was one (None for timeouts, refused
        # connections and errors a provider finds in a 2xx answer).
        self.response = response
        # The request may have reached the gateway: resending it could deliver it twice.
        self.uncertain = uncertain

    @property
    def rate_limited(self) -> bool:
        """The gateway said "too many requests" (429), whatever its own code for it."""
        return self.code == "429" or (
            self.response is not None and self.response.status_code == 429
        )

    def with_gateway_code(self, code: object, *, temporary_codes: frozenset) -> ProviderError:
        """The same error under the gateway's own error code, which is more telling than the HTTP
        status: temporary when that code says so, even on a 4xx."""
        return ProviderError(
            self.reason,
            permanent=self.permanent and code not in temporary_codes,
            code=str(code),
            retry_after=self.retry_after,
            response=self.response,
            uncertain=self.uncertain,
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


@dataclass(frozen=True)
class StatusLookup:
    """What a gateway's status lookup found for an unconfirmed message: it has it (`status`
    sent, delivered or failed, with its id), or it certainly never got it (`status` None)."""

    status: str | None
    provider_message_id: str = ""
    reason: str = ""


class Provider:
    """Base class: subclasses set `name`, `channel`, `settings_required` and implement `send()`.

    Two capabilities decide what happens to a send whose outcome is unknown (`uncertain`):
    `dedupes_by_reference` (the gateway drops a second request carrying the same client
    reference, so resending is safe) and `status_lookup()` (the gateway can tell whether it has
    the message). Each provider sets them from its gateway's API documentation.
    """

    name: ClassVar[str]
    channel: ClassVar[str]
    # Django settings that must be non-empty for the provider to be configured.
    settings_required: ClassVar[tuple[str, ...]] = ()
    dedupes_by_reference: ClassVar[bool] = False

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

    def send_many(self, messages: Iterable[Message]) -> Iterable[SendOutcome]:
        """Send several messages, yielding each outcome as soon as the gateway answered, so the
        caller records it before the next send. Providers with a pooled connection override it
        to reuse one; the caller may stop early (close the generator)."""
        for message in messages:
            try:
                yield SendOutcome(message.pk, result=self.send(message))
            except ProviderError as exc:
                yield SendOutcome(message.pk, error=exc)
            except Exception as exc:
                # A bug or an odd answer while sending one message must not lose the outcomes of
                # the messages already sent in this batch. The request may have gone out.
                logger.exception("%s: unexpected error sending message %s", self.name, message.pk)
                error = ProviderError(
                    f"{type(exc).__name__}: {exc}", permanent=False, uncertain=True
                )
                yield SendOutcome(message.pk, error=error)

    def status_lookup(self, message: Message) -> StatusLookup | None:
        """Ask the gateway what became of an `unconfirmed` message; None when it cannot tell
        (or has no such lookup, the default)."""
        return None

    def close(self) -> None:
        """Release pooled connections (called when a worker shuts down or settings change)."""
