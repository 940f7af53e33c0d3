from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Event
from customers.timeline import (
    TimelineEntry,
    TimelineSource,
    _sources,
    customer_timeline,
    register_timeline_source,
)
from tests.factories import (
    ConsentChangeFactory,
    CustomerFactory,
    EventFactory,
    NoteFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def customer():
    customer = CustomerFactory(external_id="c1")
    EventFactory(customer=customer, name="page_view", occurred_at=NOW - timedelta(hours=5))
    OrderFactory(customer=customer, external_id="o1", placed_at=NOW - timedelta(hours=4))
    ConsentChangeFactory(customer=customer, occurred_at=NOW - timedelta(hours=3))
    NoteFactory(customer=customer, body="Asked for an invoice", created_at=NOW - timedelta(hours=2))
    EventFactory(customer=customer, name="add_to_cart", occurred_at=NOW - timedelta(hours=1))
    EventFactory(name="someone else's event", occurred_at=NOW)
    return customer


def test_the_timeline_merges_every_source_newest_first(customer):
    page = customer_timeline(customer.pk)
    assert [e.kind for e in page.entries] == ["event", "note", "consent_change", "order", "event"]
    assert page.entries[0].title == "add_to_cart"
    assert page.next_cursor is None


def test_paging_with_the_cursor_returns_each_entry_once_even_with_equal_times():
    customer = CustomerFactory()
    for i in range(7):
        EventFactory(customer=customer, event_id=f"e{i}", occurred_at=NOW)
    OrderFactory(customer=customer, placed_at=NOW)
    NoteFactory(customer=customer, created_at=NOW)
    seen, cursor = [], None
    while True:
        page = customer_timeline(customer.pk, cursor=cursor, limit=2)
        seen += [(e.kind, e.id) for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9


def test_the_api_serves_the_timeline_with_a_cursor_and_a_kind_filter(api, customer):
    first = api.get("/api/v1/customers/c1/timeline", {"limit": 3}).json()
    assert [e["kind"] for e in first["results"]] == ["event", "note", "consent_change"]
    second = api.get(
        "/api/v1/customers/c1/timeline", {"limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [e["kind"] for e in second["results"]] == ["order", "event"]
    assert second["next_cursor"] is None
    only_orders = api.get("/api/v1/customers/c1/timeline", {"kind": "order"}).json()
    assert only_orders["results"][0]["data"]["external_id"] == "o1"


def test_a_bad_cursor_limit_or_kind_is_400(api, customer):
    assert (
        api.get("/api/v1/customers/c1/timeline", {"cursor": "garbage"}).json()["errors"][0]["field"]
        == "cursor"
    )
    assert (
        api.get("/api/v1/customers/c1/timeline", {"limit": "ten"}).json()["errors"][0]["field"]
        == "limit"
    )
    assert (
        api.get("/api/v1/customers/c1/timeline", {"kind": "tweet"}).json()["errors"][0]["field"]
        == "kind"
    )


def test_a_later_app_can_add_a_source_without_customers_knowing_it(customer):
    # What a later app (analytics' survey answers) does: register a source from its ready().
    # A kind no app registers yet, so the real sources stay as they are for later tests.
    source = TimelineSource(
        kind="survey_answer",
        rows_for_customer=lambda cid: Event.objects.filter(customer_id=cid, name="add_to_cart"),
        time_field="occurred_at",
        to_entry=lambda row: TimelineEntry(row.occurred_at, "survey_answer", row.pk, "Answered"),
    )
    register_timeline_source(source)
    try:
        kinds = [e.kind for e in customer_timeline(customer.pk).entries]
    finally:
        del _sources["survey_answer"]
    assert kinds.count("survey_answer") == 1
