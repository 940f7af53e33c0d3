"""Signed tokens for the public links: open pixel, click redirect, unsubscribe, preference page.

Each token is the value itself, signed with SECRET_KEY (and SECRET_KEY_FALLBACKS while a key is
rotated) and salted per purpose, so a token made for one link cannot be replayed on another and
no secret has to be stored per message. Tokens do not expire: a link in an old email must keep
working, and unsubscribing must never fail because the email is a year old.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from functools import lru_cache

from django.conf import settings
from django.core import signing

OPEN_SALT = "kaskad.tracking.open"
CLICK_SALT = "kaskad.tracking.click"
UNSUBSCRIBE_SALT = "kaskad.unsubscribe"
PREFERENCES_SALT = "kaskad.preferences"


class BadToken(Exception):
    """The token was not made by us for this purpose (tampered, truncated or another salt)."""


def _sign(value: object, salt: str, *, compress: bool = False) -> str:
    """`signing.Signer(salt=salt).sign_object(value, compress=compress)`, several times faster:
    the salted key is derived once per salt instead of once per token, and zlib is only tried
    on payloads long enough to shrink (a broadcast signs several links in each of a million
    emails). Django's Signer reads every token; tests/channels/test_tokens.py checks both ways."""
    data = json.dumps(value, separators=(",", ":")).encode("latin-1")
    is_compressed = False
    if compress and len(data) > COMPRESS_FROM:
        compressed = zlib.compress(data)
        if len(compressed) < (len(data) - 1):
            data, is_compressed = compressed, True
    encoded = base64.urlsafe_b64encode(data).strip(b"=").decode()
    if is_compressed:
        encoded = "." + encoded
    mac = _salted_mac(salt, settings.SECRET_KEY).copy()
    mac.update(encoded.encode())
    signature = base64.urlsafe_b64encode(mac.digest()).strip(b"=").decode()
    return f"{encoded}:{signature}"


# zlib's header and checksum make payloads shorter than this no smaller (Signer then keeps them
# as they are), so the attempt is skipped.
COMPRESS_FROM = 96


@lru_cache(maxsize=32)
def _salted_mac(salt: str, secret: str):
    # django.utils.crypto.salted_hmac(salt + "signer", value, secret, algorithm="sha256")
    key = hashlib.sha256((salt + "signer" + secret).encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _unsign(token: str, salt: str) -> object:
    try:
        return signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        # ValueError: a correctly signed value that is not JSON cannot happen, but a token cut
        # by a mail client can fail base64 or zlib before the signature check.
        raise BadToken(str(exc)) from exc


def _positive_id(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise BadToken("not an id")


def public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def open_token(message_id: int) -> str:
    return _sign(message_id, OPEN_SALT)


def open_token_read(token: str) -> int:
    return _positive_id(_unsign(token, OPEN_SALT))


def open_url(message_id: int) -> str:
    return public_url(f"/t/o/{open_token(message_id)}.gif")


def click_token(message_id: int, url: str) -> str:
    # Long URLs (UTM tags) shrink with zlib; Signer only compresses when it helps.
    return _sign([message_id, url], CLICK_SALT, compress=True)


def click_token_read(token: str) -> tuple[int, str]:
    value = _unsign(token, CLICK_SALT)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
        raise BadToken("not a click")
    return _positive_id(value[0]), value[1]


def click_url(message_id: int, url: str) -> str:
    return public_url(f"/t/c/{click_token(message_id, url)}")


def unsubscribe_token(message_id: int) -> str:
    return _sign(message_id, UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> int:
    return _positive_id(_unsign(token, UNSUBSCRIBE_SALT))


def unsubscribe_url(message_id: int) -> str:
    """The one-click unsubscribe link of a message (RFC 8058 List-Unsubscribe, and for bodies)."""
    return public_url(f"/u/{unsubscribe_token(message_id)}")


def preferences_token(customer_id: int) -> str:
    return _sign(customer_id, PREFERENCES_SALT)


def preferences_token_read(token: str) -> int:
    return _positive_id(_unsign(token, PREFERENCES_SALT))


def preferences_url(customer_id: int) -> str:
    """The customer's own page of channel consents; put it in every marketing footer."""
    return public_url(f"/preferences/{preferences_token(customer_id)}")
