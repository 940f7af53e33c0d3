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
