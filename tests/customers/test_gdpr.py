import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from customers.models import ChannelIdentity, ConsentChange, Customer, Event, Note, Order
from customers.services.gdpr import customer_erase
from tests.factories import (
    ChannelIdentityFactory,
    ConsentChangeFactory,
    CustomerFactory,
    EventFactory,
    NoteFactory,
    OrderFactory,
    OrderItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory(
        external_id="c1", email="olga@example.com", first_name="Olga", attributes={"city": "Omsk"}
    )
    ChannelIdentityFactory(customer=customer, channel="telegram", address="555")
    ConsentChangeFactory(customer=customer)
    EventFactory(customer=customer, event_id="e1", properties={"query": "baby stroller"})
    NoteFactory(customer=customer)
    OrderItemFactory(order=OrderFactory(customer=customer, external_id="o1"), sku="S1")
    return customer


def test_export_holds_everything_kept_about_the_customer(api, customer):
    response = api.get("/api/v1/customers/c1/export")
    assert response.status_code == 200
    data = response.json()
    assert data["profile"]["email"] == "olga@example.com"
    assert data["profile"]["attributes"] == {"city": "Omsk"}
    assert [i["address"] for i in data["identities"]] == ["555"]
    assert data["consent_log"][0]["status"] == "opted_in"
    assert data["events"][0]["properties"] == {"query": "baby stroller"}
    assert data["orders"][0]["items"][0]["sku"] == "S1"
    assert data["notes"][0]["body"].startswith("Called")


def test_erase_wipes_personal_data_and_keeps_anonymised_orders_and_the_consent_log(api, customer):
    assert api.delete("/api/v1/customers/c1").status_code == 204
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.is_erased
    assert (erased.email, erased.phone, erased.first_name, erased.last_name) == ("", "", "", "")
    assert erased.attributes == {}
    assert erased.external_id != "c1"
    assert not ChannelIdentity.objects.filter(customer=erased).exists()
    assert not Event.objects.filter(customer=erased).exists()
    assert not Note.objects.filter(customer=erased).exists()
    assert Order.objects.get(external_id="o1").customer == erased
    assert ConsentChange.objects.filter(customer=erased).count() == 1


def test_after_erase_the_crm_id_can_be_used_for_a_new_customer(api, customer):
    api.delete("/api/v1/customers/c1")
    response = api.post(
        "/api/v1/customers/batch", {"items": [{"external_id": "c1", "email": "olga@example.com"}]}
    )
    assert response.json()["created"] == 1
    assert api.get("/api/v1/customers/c1").json()["attributes"] == {}


def test_erase_removes_the_customer_s_name_from_the_admin_history(customer, admin_user):
    LogEntry.objects.log_actions(
        admin_user.pk, [customer], CHANGE, change_message=[{"changed": {"fields": ["Email"]}}]
    )
    customer_erase(customer=customer)
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Customer))
    assert "Olga" not in entry.object_repr
    assert entry.change_message == ""
