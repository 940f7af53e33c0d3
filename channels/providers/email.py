"""Email through Django's email framework: SMTP from EMAIL_URL, or any ESP through django-anymail.

Whatever EMAIL_BACKEND is, a batch goes over one connection (one SMTP session, or one pooled
HTTP session for an anymail ESP). Each email carries a Message-ID we make, which is the
provider message id for SMTP; with an anymail ESP the ESP's own id is used instead, because
that is what its tracking webhooks report (see channels.hooks.email).

Marketing email gets RFC 8058 one-click unsubscribe headers pointing at /u/<signed token>
(channels.tracking). Mailbox providers honour them only on DKIM-signed mail, which the relay or
ESP must do.

Errors: a 5xx reply (recipient refused, message rejected) fails the message at once with the
server's words; 4xx replies (greylisting, mailbox busy), dropped connections and timeouts are
retried. A server that refuses our login or greeting is a problem of this server, not of the
message, so it is retried too (and fails with that reason after the last attempt).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import smtplib
from collections.abc import Iterable, Iterator
from email.utils import parseaddr

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.message import DNS_NAME
from django.utils.html import strip_tags

from channels.models import Message, MessageCategory
from channels.providers.base import (
    Provider,
    ProviderError,
    ProviderNotConfigured,
    SendOutcome,
    SendResult,
)
from channels.providers.smtp import KaskadEmail
from channels.tracking.tokens import unsubscribe_url

logger = logging.getLogger(__name__)

DEFAULT_SMTP_BACKEND = "channels.providers.smtp.EmailBackend"
# Backends that send to EMAIL_HOST, which means localhost:25 when EMAIL_URL is not set.
SMTP_BACKENDS = frozenset({DEFAULT_SMTP_BACKEND, "django.core.mail.backends.smtp.EmailBackend"})
# Django's backends that print, store or drop email instead of sending it.
NON_SENDING_BACKENDS = frozenset(
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("console", "filebased", "locmem", "dummy")
)
CONNECTION_ERROR = "connection"


class EmailProvider(Provider):
    name = "email"
    channel = "email"
    # SMTP servers and ESPs do not drop a second email with the same Message-ID.
    dedupes_by_reference = False

    @classmethod
    def from_settings(cls) -> EmailProvider:
        """Configured when EMAIL_URL names an SMTP server, or EMAIL_BACKEND is anything but an
        SMTP backend (an anymail ESP, or the console backend on a laptop). An SMTP backend
        without EMAIL_URL would send to localhost:25, which nobody means to. Django's backends
        that send nothing (console, file, memory, dummy) count only with DEBUG on: in production
        they would mark every email sent while none leaves."""
        url = getattr(settings, "EMAIL_URL", "") or ""
        backend = getattr(settings, "EMAIL_BACKEND", "") or DEFAULT_SMTP_BACKEND
        if not url and backend in SMTP_BACKENDS:
            raise ProviderNotConfigured("email is not configured: set EMAIL_URL or EMAIL_BACKEND")
        if backend in NON_SENDING_BACKENDS and not settings.DEBUG:
            raise ProviderNotConfigured(
                f"email is not configured: {backend} sends nothing, so it is refused "
                "without DEBUG (MESSAGING_SANDBOX keeps what would have been sent)"
            )
        return cls({"EMAIL_URL": url, "EMAIL_BACKEND": backend})

    def send(self, message: Message) -> SendResult:
        (outcome,) = self.send_many([message])
        if outcome.error is not None:
            raise outcome.error
        assert outcome.result is not None
        return outcome.result

    def send_many(self, messages: Iterable[Message]) -> Iterator[SendOutcome]:
        """Send over one connection, yielding each outcome as the server answered it."""
        messages = list(messages)
        if not messages:
            return
        connection = get_connection(self.config["EMAIL_BACKEND"], fail_silently=False)
        needs_open = True
        try:
            for index, message in enumerate(messages):
                if needs_open:
                    try:
                        connection.open()
                    except Exception as exc:
                        # The server cannot be reached: no point trying each remaining message.
                        # Nothing was sent on this connection, so the errors are certain.
                        error = email_error(exc)
                        error.uncertain = False
                        for m in messages[index:]:
                            yield SendOutcome(m.pk, error=error)
                        break
                    needs_open = False
                try:
                    result = self._send_one(connection, message)
                except ProviderError as exc:
                    yield SendOutcome(message.pk, error=exc)
                    if exc.code == CONNECTION_ERROR:
                        # The session is gone; the next message gets a fresh one.
                        _close_quietly(connection)
                        needs_open = True
                else:
                    yield SendOutcome(message.pk, result=result)
        finally:
            _close_quietly(connection)

    def _send_one(self, connection, message: Message) -> SendResult:
        try:
            email = email_build(message, connection=connection)
            sent = connection.send_messages([email])
        except Exception as exc:
            raise email_error(exc) from exc
        if not sent:
            raise ProviderError("the email backend sent nothing (no recipient?)", permanent=True)
        _raise_for_esp_status(email)
        return SendResult(provider_message_id=_provider_message_id(email))


def email_build(message: Message, *, connection=None) -> KaskadEmail:
    """The EmailMultiAlternatives for a message: text body, HTML alternative, our Message-ID,
    and the one-click unsubscribe headers on marketing email."""
    from_email = message.payload.get("from") or settings.DEFAULT_FROM_EMAIL
    headers = {"Message-ID": _make_message_id(message, from_email)}
    if message.category == MessageCategory.MARKETING:
        targets = [f"<{unsubscribe_url(message.pk)}>"]
        mailto = settings.LIST_UNSUBSCRIBE_MAILTO
        if mailto:
            targets.append(f"<mailto:{mailto}?subject=unsubscribe-{message.pk}>")
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    reply_to = message.payload.get("reply_to")
    email = KaskadEmail(
        subject=message.subject,
        # An HTML-only message still gets a text part: spam filters distrust HTML-only mail.
        body=message.body or strip_tags(message.html),
        from_email=from_email,
        to=[message.address],
        reply_to=[reply_to] if isinstance(reply_to, str) and reply_to else None,
        headers=headers,
        connection=connection,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _make_message_id(message: Message, from_email: str) -> str:
    # Unique per attempt as well as per message: a retry is a new email to the receiving server.
    return f"<kaskad.{message.pk}.{secrets.token_hex(8)}@{_message_id_domain(from_email)}>"


@functools.lru_cache(maxsize=64)
def _message_id_domain(from_email: str) -> str:
    # The sender's domain: the same for a whole campaign, so parsed once.
    return parseaddr(from_email)[1].rpartition("@")[2] or DNS_NAME.get_fqdn()


# anymail recipient statuses that mean the ESP will not deliver the email.
ESP_REFUSED = frozenset({"invalid", "rejected", "failed"})


def _raise_for_esp_status(email: EmailMultiAlternatives) -> None:
    # anymail raises AnymailRecipientsRefused for these unless IGNORE_RECIPIENT_STATUS is on;
    # then the status is the only sign that nothing will be delivered.
    statuses = getattr(getattr(email, "anymail_status", None), "status", None)
    if statuses and statuses <= ESP_REFUSED:
        raise ProviderError(
            f"the ESP refused the recipient ({', '.join(sorted(statuses))})",
            permanent=True,
            code="rejected",
        )


def _provider_message_id(email: EmailMultiAlternatives) -> str:
    # anymail ESPs report their own id on the message; their webhooks use it.
    status = getattr(email, "anymail_status", None)
    esp_id = getattr(status, "message_id", None)
    if isinstance(esp_id, set) and len(esp_id) == 1:
        esp_id = next(iter(esp_id))
    if isinstance(esp_id, str) and esp_id:
        return esp_id
    return email.extra_headers["Message-ID"]


def _close_quietly(connection) -> None:
    # A QUIT that fails changes nothing for messages already accepted.
    with contextlib.suppress(Exception):
        connection.close()


def _smtp_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _by_reply_code(code: int, text: str) -> ProviderError:
    reason = f"{code} {text}".strip()
    return ProviderError(reason, permanent=500 <= code < 600, code=str(code))


def email_error(exc: BaseException) -> ProviderError:
    """Classify an exception from an email backend as a permanent or temporary ProviderError."""
    if isinstance(exc, ProviderError):
        return exc
    # anymail first: its API errors are also OSError (requests' exceptions are IOError).
    if isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return ProviderError(str(exc).splitlines()[0], permanent=True, code="rejected")
    if isinstance(exc, AnymailAPIError):
        status = exc.status_code
        reason = " ".join(str(exc).split())
        if status is None or status == 429 or status >= 500:
            return ProviderError(
                reason,
                permanent=False,
                code=str(status or ""),
                retry_after=_retry_after(exc),
                uncertain=status is None,  # no answer: the ESP may have taken it
            )
        return ProviderError(reason, permanent=True, code=str(status))
    if isinstance(exc, (AnymailError, ImproperlyConfigured)):  # unsupported feature, settings
        return ProviderError(" ".join(str(exc).split()), permanent=True, code="configuration")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # {address: (code, text)} for each refused recipient; we send to one.
        code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
        return _by_reply_code(code, _smtp_text(text))
    if isinstance(
        exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError, smtplib.SMTPConnectError)
    ):
        return ProviderError(
            f"{exc.smtp_code} {_smtp_text(exc.smtp_error)}", permanent=False, code=CONNECTION_ERROR
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, DATA rejected
        return _by_reply_code(exc.smtp_code, _smtp_text(exc.smtp_error))
    # SMTPServerDisconnected and every other SMTPException are OSErrors, as are timeouts,
    # refused connections and TLS failures: the session is gone. Lost in the middle of a send
    # (after DATA, say), the server may have taken the email, so it is uncertain; a failure to
    # connect at all is made certain by send_many.
    if isinstance(exc, OSError):
        return ProviderError(
            f"{type(exc).__name__}: {exc}",
            permanent=False,
            code=CONNECTION_ERROR,
            uncertain=not isinstance(exc, ConnectionRefusedError),
        )
    if isinstance(exc, (BadHeaderError, ValueError, TypeError)):
        # A subject with a newline, an address Python cannot encode: sending again won't help.
        return ProviderError(f"{type(exc).__name__}: {exc}", permanent=True, code="invalid")
    logger.exception("unexpected error from the email backend")
    return ProviderError(f"{type(exc).__name__}: {exc}", permanent=False)


def _retry_after(exc: AnymailAPIError) -> float | None:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None
