import pytest

from customers.models import ConsentStatus
from tests.factories import ChannelIdentityFactory, ConsentFactory, CustomerFactory


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "channels.services.messages.messages_enqueue",
        lambda ids, countdown=None: calls.append(list(ids)),
    )
    return calls


@pytest.fixture
def reachable(db):
    def make(channel="email", **fields):
        customer = CustomerFactory(**fields)
        address = customer.email if channel == "email" else customer.phone
        ChannelIdentityFactory(customer=customer, channel=channel, address=address)
        ConsentFactory(customer=customer, channel=channel, status=ConsentStatus.OPTED_IN)
        return customer

    return make


@pytest.fixture
def no_caps(db):
    """No frequency caps (the broadcast tests send several messages to one customer)."""
    from channels.models import DeliverySettings
    from channels.services.policy import forget_delivery_settings

    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    yield
    forget_delivery_settings()


@pytest.fixture
def published(monkeypatch):
    """Chunk tasks a broadcast launch publishes, kept to be run inline by `run_chunks`."""
    calls = []
    monkeypatch.setattr(
        "campaigns.broadcasts.services.launch.task_publish",
        lambda task, *args, **kw: calls.append(args) or True,
    )
    return calls
