"""Canonical forms for what customers are found by: lower-case emails, E.164 phones, IANA zones.

Each function returns the canonical value or raises ValueError with a message fit for an API client.
"""

import re
import zoneinfo
from functools import lru_cache

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from customers.models import Channel

PHONE_CHANNELS = {Channel.SMS, Channel.WHATSAPP, Channel.VOICE}
_TELEGRAM_ADDRESS = re.compile(r"^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValueError("not a valid email address") from None
    return email


def normalize_phone(value: str, region: str | None = None) -> str:
    """Parse a phone as written by people ("8 (916) 123-45-67", "+7 916…") into E.164."""
    try:
        number = phonenumbers.parse(value, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_address(channel: str, address: str) -> str:
    address = address.strip()
    if not address:
        raise ValueError("must not be empty")
    if channel == Channel.EMAIL:
        return normalize_email(address)
    if channel in PHONE_CHANNELS:
        return normalize_phone(address)
    if channel == Channel.TELEGRAM and not _TELEGRAM_ADDRESS.match(address):
        raise ValueError("a Telegram address is a numeric chat id or an @username")
    return address


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def normalize_timezone(value: str) -> str:
    value = value.strip()
    if value not in _timezones():
        raise ValueError("not an IANA time zone such as 'Europe/Moscow'")
    return value


@lru_cache(maxsize=1024)
def normalize_locale(value: str) -> str:
    """Return a BCP 47 tag ("ru-RU") for a known locale, whether written ru_RU, ru-ru or ru-RU."""
    try:
        locale = Locale.parse(value.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ValueError("not a known locale such as 'ru-RU' or 'en'") from None
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def normalize_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in _currencies():
        raise ValueError("not an ISO 4217 currency code such as 'RUB'")
    return code
