import pytest
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Event
from customers.services.events import _events_insert
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/batch"


def event(event_id="e1", customer="c1", **overrides):
    return {
        "event_id": event_id,
        "customer_external_id": customer,
        "name": "product_view",
        "properties": {"sku": "RTX-4090", "price": 1999.5},
        "occurred_at": "2026-11-01T10:00:00+03:00",
        **overrides,
    }


def test_events_are_stored_for_their_customer(api):
    customer = CustomerFactory(external_id="c1")
    response = api.post(
        URL, {"items": [event("e1"), event("e2", name="add_to_cart", source="shop")]}
    )
    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "customers_created": []}
    stored = Event.objects.get(event_id="e1")
    assert stored.customer == customer
    assert stored.properties == {"sku": "RTX-4090", "price": 1999.5}
    assert stored.occurred_at.isoformat() == "2026-11-01T07:00:00+00:00"
    assert stored.source == "api:crm"
    assert Event.objects.get(event_id="e2").source == "shop"


def test_a_replayed_event_is_stored_once(api):
    CustomerFactory(external_id="c1")
    api.post(URL, {"items": [event("e1")]})
    response = api.post(URL, {"items": [event("e1", name="renamed"), event("e2")]})
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 1, "customers_created": []}
    assert Event.objects.get(event_id="e1").name == "product_view"


def test_replaying_an_event_with_another_customer_creates_no_placeholder_customer(api):
    CustomerFactory(external_id="c1")
    api.post(URL, {"items": [event("e1")]})
    response = api.post(URL, {"items": [event("e1", customer="someone-else")]})
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 1, "customers_created": []}
    assert not Customer.objects.filter(external_id="someone-else").exists()
    assert Event.objects.get(event_id="e1").customer.external_id == "c1"


def test_an_event_for_an_unknown_customer_creates_that_customer_and_says_so(api):
    response = api.post(
        URL, {"items": [event("e1", customer="new-1"), event("e2", customer="new-1")]}
    )
    assert response.json()["customers_created"] == ["new-1"]
    assert Customer.objects.get(external_id="new-1").events.count() == 2


def test_an_event_without_a_time_zone_is_rejected(api):
    response = api.post(URL, {"items": [event("e1", occurred_at="2026-11-01T10:00:00")]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "occurred_at"


def test_a_bad_event_stores_no_event_and_no_customer(api):
    response = api.post(URL, {"items": [event("e1", customer="new-1"), event("e2", name="")]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert not Customer.objects.exists()
    assert not Event.objects.exists()


def test_a_duplicate_event_id_inside_one_batch_is_rejected(api):
    response = api.post(URL, {"items": [event("e1"), event("e1")]})
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "index": 1,
        "field": "event_id",
        "message": "duplicate event_id 'e1', already at index 0",
    }


def test_properties_must_be_an_object(api):
    response = api.post(URL, {"items": [event("e1", properties=[1, 2])]})
    assert response.json()["errors"][0]["field"] == "properties"


def test_an_event_stored_meanwhile_by_another_request_is_skipped_not_an_error():
    # What happens when a concurrent batch stores an event_id between our check and our insert:
    # on PostgreSQL the COPY fails inside its savepoint and the insert skips the clash.
    customer = CustomerFactory()
    Event.objects.create(event_id="e1", customer=customer, name="first", occurred_at=timezone.now())
    row = {"customer_id": customer.pk, "properties": {"a": [1, "два"]}, "occurred_at": timezone.now(),
           "received_at": timezone.now(), "source": "api"}  # fmt: skip
    with transaction.atomic():
        _events_insert(
            [{**row, "event_id": "e1", "name": "clash"}, {**row, "event_id": "e2", "name": "new"}]
        )
    assert Event.objects.get(event_id="e1").name == "first"
    assert Event.objects.get(event_id="e2").properties == {"a": [1, "два"]}
