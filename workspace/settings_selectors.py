"""Reads for the Settings pages: how each channel's providers are configured, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from channels.providers import PROVIDER_CLASSES, SMS_PROVIDERS, provider_class
from channels.providers.base import ProviderNotConfigured
from customers.models import Channel

# Settings shown in clear: addresses, sender names and choices. Everything else (tokens, keys,
# secrets, EMAIL_URL with its password) is only said to be set.
PUBLIC_SETTINGS = (
    "_BASE_URL",
    "_SENDER",
    "_SENDER_NAME",
    "_FROM",
    "_SUBJECT",
    "_PROJECT_ID",
    "_PHONE_NUMBER_ID",
    "EMAIL_BACKEND",
    "SMS_PROVIDER",
)
CHANNEL_PROVIDERS = {
    Channel.EMAIL: ["email"],
    Channel.SMS: list(SMS_PROVIDERS),
    Channel.WHATSAPP: ["whatsapp"],
    Channel.TELEGRAM: ["telegram"],
    Channel.VIBER: ["viber"],
    Channel.PUSH: ["webpush", "fcm"],
}
EMAIL_SETTINGS = ("EMAIL_URL", "EMAIL_BACKEND")


@dataclass
class SettingValue:
    name: str
    is_set: bool
    shown: str  # the value when public, else "" (the template says "set" or "missing")


@dataclass
class ProviderStatus:
    name: str
    configured: bool
    problem: str  # the provider's own reason when not configured
    settings: list[SettingValue] = field(default_factory=list)
    primary: bool = False


@dataclass
class ChannelStatus:
    channel: str
    providers: list[ProviderStatus]

    @property
    def configured(self) -> bool:
        return any(p.configured for p in self.providers)


def _setting(name: str) -> SettingValue:
    value = str(getattr(settings, name, "") or "")
    public = name.endswith(PUBLIC_SETTINGS) or name in PUBLIC_SETTINGS
    return SettingValue(name=name, is_set=bool(value), shown=value if public and value else "")


def _provider_status(name: str) -> ProviderStatus:
    cls = provider_class(name)
    names = EMAIL_SETTINGS if name == "email" else cls.settings_required
    try:
        cls.from_settings()
        configured, problem = True, ""
    except ProviderNotConfigured as exc:
        configured, problem = False, str(exc)
    except Exception as exc:  # a malformed key or file: the page still shows the rest
        configured, problem = False, f"{type(exc).__name__}: {exc}"
    return ProviderStatus(
        name=name, configured=configured, problem=problem, settings=[_setting(n) for n in names]
    )


def channels_overview() -> list[ChannelStatus]:
    """Each channel with its providers (the SMS primary first), whether the sandbox is on or not."""
    rows = []
    for channel, names in CHANNEL_PROVIDERS.items():
        if channel == Channel.SMS:
            names = sorted(names, key=lambda n: n != settings.SMS_PROVIDER)
        providers = [_provider_status(n) for n in names if n in PROVIDER_CLASSES]
        if channel == Channel.SMS and providers:
            providers[0].primary = True
        rows.append(ChannelStatus(channel=channel, providers=providers))
    return rows
