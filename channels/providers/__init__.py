"""The provider registry: which gateway plug-in sends each channel, and the failover order.

Each gateway is one module here with one `Provider` subclass. `provider_chain()` gives the names to
try for a message, first the primary, then the failover; `get_provider()` builds (once per process)
the configured instance, or raises ProviderNotConfigured.
"""

from __future__ import annotations

import contextlib
from functools import cache
from importlib import import_module

from django.conf import settings

from channels.providers.base import (
    Provider,
    ProviderError,
    ProviderNotConfigured,
    SendOutcome,
    SendResult,
)

__all__ = [
    "Provider",
    "ProviderError",
    "ProviderNotConfigured",
    "SendOutcome",
    "SendResult",
    "get_provider",
    "provider_chain",
]

# name → "module:Class". Modules are imported on first use, so one broken plug-in or a missing
# optional library affects only its own channel.
PROVIDER_CLASSES: dict[str, str] = {
    "email": "channels.providers.email:EmailProvider",
    "exolve": "channels.providers.exolve:ExolveSmsProvider",
    "twilio": "channels.providers.twilio:TwilioSmsProvider",
    "whatsapp": "channels.providers.whatsapp:WhatsAppProvider",
    "telegram": "channels.providers.telegram:TelegramProvider",
    "viber": "channels.providers.viber:ViberProvider",
    "webpush": "channels.providers.webpush:WebPushProvider",
    "fcm": "channels.providers.fcm:FcmProvider",
    "sandbox": "channels.providers.sandbox:SandboxProvider",
}
SMS_PROVIDERS = ("exolve", "twilio")


def provider_chain(channel: str, *, push_kind: str = "web") -> list[str]:
    """Provider names for a channel, primary first. The sandbox, when on, replaces them all."""
    if settings.MESSAGING_SANDBOX:
        return ["sandbox"]
    if channel == "sms":
        primary = settings.SMS_PROVIDER
        others = [name for name in SMS_PROVIDERS if name != primary and _configured(name)]
        return [primary, *others]
    if channel == "push":
        return ["fcm" if push_kind == "fcm" else "webpush"]
    return {
        "email": ["email"],
        "whatsapp": ["whatsapp"],
        "telegram": ["telegram"],
        "viber": ["viber"],
    }.get(channel, [])


def provider_class(name: str) -> type[Provider]:
    module, _, cls = PROVIDER_CLASSES[name].partition(":")
    return getattr(import_module(module), cls)


@cache
def get_provider(name: str) -> Provider:
    """The configured provider instance for this process (it holds pooled connections)."""
    return provider_class(name).from_settings()


def _configured(name: str) -> bool:
    try:
        get_provider(name)
    except ProviderNotConfigured:
        return False
    return True


def reset_providers() -> None:
    """Forget built providers, closing their connections (tests that change settings call it)."""
    if get_provider.cache_info().currsize:
        for name in PROVIDER_CLASSES:
            # A provider that never built (not configured) has nothing to close.
            with contextlib.suppress(Exception):
                get_provider(name).close()
    get_provider.cache_clear()
