"""Shared fixtures for channels tests: reachable customers, fresh providers, delivery settings and
webhook subscriptions, and a recorder standing in for the broker."""

import pytest

from channels.providers import reset_providers
from channels.services.policy import forget_delivery_settings
from customers.models import ConsentStatus
from tests.factories import ChannelIdentityFactory, ConsentFactory, CustomerFactory


@pytest.fixture(autouse=True)
def _fresh_providers():
    """Providers are built once per process from settings; each test builds its own."""
    reset_providers()
    forget_delivery_settings()
    yield
    reset_providers()
    forget_delivery_settings()


@pytest.fixture
def enqueued(monkeypatch):
    """Stands in for the broker: records (ids, countdown) of every enqueued chunk."""
    calls = []
    monkeypatch.setattr(
        "channels.services.messages.messages_enqueue",
        lambda ids, countdown=None: calls.append((list(ids), countdown)),
    )
    return calls


@pytest.fixture
def reachable_customer(db):
    """make(channel, address=None, consent="opted_in", **customer_fields) → a customer who can be
    sent to on `channel`: an identity with that address and that consent."""

    def make(channel: str, address: str | None = None, consent=ConsentStatus.OPTED_IN, **fields):
        customer = CustomerFactory(**fields)
        if address is None:
            address = {"email": customer.email, "sms": customer.phone, "whatsapp": customer.phone}[
                channel
            ]
        ChannelIdentityFactory(customer=customer, channel=channel, address=address)
        if consent is not None:
            ConsentFactory(customer=customer, channel=channel, status=consent)
        return customer

    return make


@pytest.fixture
def sandbox(settings):
    settings.MESSAGING_SANDBOX = True
    reset_providers()
    return settings


@pytest.fixture
def exolve(settings, httpserver):
    """MTS Exolve as the only SMS gateway, played by a local HTTP server (no failover)."""
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "exolve"
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key-123"
    settings.EXOLVE_SENDER = "+79990001122"
    settings.EXOLVE_WEBHOOK_SECRET = "hook-secret-xyz"
    settings.TWILIO_ACCOUNT_SID = ""  # no failover: Exolve's errors are the last word
    settings.PROVIDER_HTTP_TIMEOUT = 0.5
    reset_providers()
    return httpserver
