"""Binding a Telegram chat to a customer with a signed deep link.

`telegram_link_for(customer)` gives `https://t.me/<bot>?start=<token>`; Telegram opens the bot and,
when the user presses Start, sends `/start <token>` to our webhook, which calls
`telegram_link_bind()`. The token is Django-signed (salt "telegram-link", timestamped), so only
links we issued bind, and only for TELEGRAM_LINK_MAX_AGE.

Telegram allows at most 64 characters from [A-Za-z0-9_-] in a start parameter. Django's signed
value `value:timestamp:signature` has two ':' separators, which Telegram refuses; the value (the
customer id) and the timestamp are base62, so they never contain '-', and the token is the signed
value with its ':' written as '-'. With a 43-character SHA-256 signature, a 6-character timestamp
and a base62 id, it is at most 57 characters for ids below 62**6 (about 5.7e10).

A chat bound to another customer moves to the customer whose link was opened: the link proves the
person holding the chat received that customer's link (by email, SMS, or in their account), and
the newest proof wins. The earlier customer keeps their other addresses and their consent log.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from customers.models import Channel, ConsentStatus, Customer
from customers.services.consents import consent_set
from customers.services.identities import identity_bind

SALT = "telegram-link"
CONSENT_SOURCE = "telegram:/start"
TOKEN_MAX_LENGTH = 64  # Telegram's limit for the start parameter
_SEPARATOR = "-"


def telegram_link_for(customer: Customer) -> str:
    """The deep link that binds the chat that opens it to `customer`."""
    bot = settings.TELEGRAM_BOT_USERNAME.lstrip("@")
    return f"https://t.me/{bot}?start={telegram_token_for(customer)}"


def telegram_webhook_url() -> str:
    """Where Telegram must post updates: give it to setWebhook with TELEGRAM_WEBHOOK_SECRET."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('hooks-telegram')}"


def telegram_token_for(customer: Customer) -> str:
    signed = signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(customer.pk))
    token = signed.replace(":", _SEPARATOR)
    if len(token) > TOKEN_MAX_LENGTH:  # only past ~5.7e10 customers
        raise ValueError(f"telegram start token longer than {TOKEN_MAX_LENGTH} characters")
    return token


def telegram_token_customer_id(token: str) -> int | None:
    """The customer id a token was issued for, or None if it is forged, altered or expired."""
    parts = token.split(_SEPARATOR, 2)
    if len(parts) != 3 or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(
            ":".join(parts), max_age=settings.TELEGRAM_LINK_MAX_AGE
        )
        return signing.b62_decode(value)
    except (signing.BadSignature, ValueError):
        return None


@transaction.atomic
def telegram_link_bind(*, token: str, chat_id: int | str) -> Customer | None:
    """Bind the chat to the customer the token names and opt them in to Telegram.

    Returns the customer, or None when the token is bad or expired or the customer is gone.
    Binding the same chat again changes nothing (no second consent log entry).
    """
    customer_id = telegram_token_customer_id(token)
    if customer_id is None:
        return None
    customer = Customer.objects.filter(pk=customer_id, erased_at__isnull=True).first()
    if customer is None:
        return None
    identity_bind(customer=customer, channel=Channel.TELEGRAM, address=str(chat_id))
    consent_set(
        customer=customer,
        channel=Channel.TELEGRAM,
        status=ConsentStatus.OPTED_IN,
        source=CONSENT_SOURCE,
    )
    return customer
