"""consents_set: several channels of one customer at once, all or none, each change logged."""

import pytest

from customers.models import Consent, ConsentChange, ConsentStatus
from customers.services import consents
from customers.services.consents import consents_set
from tests.factories import ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def statuses(customer) -> dict[str, str]:
    return dict(Consent.objects.filter(customer=customer).values_list("channel", "status"))


def test_several_channels_change_together_and_each_change_is_logged():
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)

    changed = consents_set(
        customer=customer,
        statuses={"email": ConsentStatus.OPTED_OUT, "sms": ConsentStatus.OPTED_IN},
        source="preference_page",
    )

    assert sorted(changed) == ["email", "sms"]
    assert statuses(customer) == {"email": "opted_out", "sms": "opted_in"}
    log = ConsentChange.objects.filter(customer=customer).order_by("channel")
    assert [(c.channel, c.previous_status, c.status, c.source) for c in log] == [
        ("email", "opted_in", "opted_out", "preference_page"),
        ("sms", "unknown", "opted_in", "preference_page"),
    ]


def test_a_status_that_is_already_set_changes_and_logs_nothing():
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)

    assert consents_set(customer=customer, statuses={"email": "opted_in"}, source="api") == []
    assert not ConsentChange.objects.exists()


def test_when_recording_fails_no_channel_is_changed(monkeypatch):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)

    def broken_listener(changes):
        raise RuntimeError("the CRM webhook outbox is unavailable")

    monkeypatch.setattr(consents, "_change_listeners", [broken_listener])
    with pytest.raises(RuntimeError):
        consents_set(
            customer=customer,
            statuses={"email": ConsentStatus.OPTED_OUT, "sms": ConsentStatus.OPTED_IN},
            source="preference_page",
        )

    assert statuses(customer) == {"email": "opted_in"}
    assert not ConsentChange.objects.exists()
