"""Django's SMTP email backend, made cheaper per email for bulk sending.

Django's MIME classes build on Python's `email` package, which folds every header of every email
from scratch and scans each multipart body for a boundary string that does not occur in it. For a
campaign that was most of the CPU an email cost (more than the SMTP conversation), although the
sender, the subject and every part header are the same on each email. This backend sends exactly
what Django's would, with four savings:

- Headers are folded by `RememberingCompat32`: the `compat32` policy Django's classes use, which
  remembers the folded form of the last few thousand header values it has seen. A campaign's
  shared headers are then folded once per worker process instead of once per email.
- Each multipart gets a fresh random 112-bit boundary up front, so the generator does not have
  to compile a regular expression and search the body for its own random boundary. No body can
  contain an unguessable value by chance, and "=_" never occurs in quoted-printable or base64.
  It is short enough for the Content-Type line to need no folding.
- The envelope sender, the same on every email, is parsed and encoded once.
- `KaskadEmail` encodes its Subject and From headers through a cache too.

The bytes on the wire are Django's, except for the boundary string (and the Content-Type line it
no longer needs to fold); tests/channels/test_smtp_backend.py checks that. `benchmarks/send` measures
the difference (`python -m benchmarks.send --only email --email-backend
django.core.mail.backends.smtp.EmailBackend` runs it with Django's stock backend).
"""

from __future__ import annotations

import functools
import secrets
import smtplib
from email.policy import Compat32, compat32

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend
from django.core.mail.message import forbid_multi_line_headers, sanitize_address

REMEMBERED_HEADER_VALUES = 4096


class RememberingCompat32(Compat32):
    """The compat32 policy, remembering how it folded each (name, value).

    A short printable ASCII value that needs no folding (To, Message-ID, Date: different on every
    email, so never worth remembering) is written as it is, which is what compat32 does with it;
    tests/channels/test_smtp_backend.py compares the two on many random values.
    """

    def fold_binary(self, name, value):
        if not isinstance(value, str):  # an email.header.Header object: rare, not remembered
            return super().fold_binary(name, value)
        if self._fits_as_is(name, value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return _folded(self.linesep, self.max_line_length, self.cte_type, name, value)

    def _fits_as_is(self, name: str, value: str) -> bool:
        return (
            self.max_line_length is not None
            and len(name) + 2 + len(value) <= self.max_line_length
            and value.isascii()
            and value.isprintable()  # no CR, LF, tab or other control character
            and value == value.strip()
            and "  " not in value
        )


@functools.lru_cache(maxsize=REMEMBERED_HEADER_VALUES)
def _folded(linesep: str, max_line_length: int | None, cte_type: str, name: str, value: str):
    policy = compat32.clone(linesep=linesep, max_line_length=max_line_length, cte_type=cte_type)
    return policy.fold_binary(name, value)


REMEMBERING_COMPAT32 = RememberingCompat32()


@functools.lru_cache(maxsize=64)
def _envelope_sender(from_email: str, encoding: str) -> str:
    return sanitize_address(from_email, encoding)


def mime_prepare(message) -> None:
    """Give a MIME message (from `EmailMessage.message()`) the remembering policy, and each of its
    multiparts a random boundary."""
    message.policy = REMEMBERING_COMPAT32
    for part in message.walk():
        # Not is_multipart(): that is also true of an attached message/rfc822, which has none.
        if part.get_content_maintype() == "multipart" and part.get_boundary() is None:
            part.set_boundary(f"=_{secrets.token_hex(14)}")


class KaskadEmail(EmailMultiAlternatives):
    """Django's EmailMultiAlternatives, with its subject and sender encoded through a cache.

    Django encodes both (RFC 2047, checking for header injection) for every email it turns into
    MIME; a campaign's emails share them, and encoding them cost a tenth of a worker's CPU. ESP
    backends (anymail) read the attributes and never call message(), so they are unaffected.
    """

    def message(self):
        subject, from_email = self.subject, self.from_email
        # Django's message() with a blank subject and sender, which cost nothing to encode; the
        # real ones, encoded once per process by the same Django function, replace them.
        self.subject = self.from_email = ""
        try:
            msg = super().message()
        finally:
            self.subject, self.from_email = subject, from_email
        encoding = self.encoding or settings.DEFAULT_CHARSET
        msg.replace_header("Subject", _encoded_header("Subject", str(subject), encoding))
        if "From" not in self.extra_headers:  # Django takes an explicit From header as it is
            msg.replace_header("From", _encoded_header("From", str(from_email), encoding))
        return msg


@functools.lru_cache(maxsize=256)
def _encoded_header(name: str, value: str, encoding: str) -> str:
    # Raises BadHeaderError for a value with a line break; errors are not cached.
    return forbid_multi_line_headers(name, value, encoding)[1]


class EmailBackend(DjangoSmtpBackend):
    """`django.core.mail.backends.smtp.EmailBackend`, sending the same email for less CPU."""

    def _send(self, email_message):
        # Django's own _send, with the sender cached and the MIME message prepared.
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = _envelope_sender(str(email_message.from_email), encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        message = email_message.message()
        mime_prepare(message)
        try:
            self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\r\n"))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
