"""Nothing the API accepts may poison a record: the most extreme values it allows, written through
the API, read back through every reader — API get, the list with `updated_since`, the timeline,
the GDPR export, the admin (changelists and change pages, in the time zones furthest from UTC),
and the members CSV — on SQLite and on PostgreSQL."""

import csv
import io
from urllib.parse import quote

import pytest
from django.urls import reverse

from api.types import MAX_JSON_DEPTH, MAX_SAFE_INTEGER
from channels.models import Message
from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Order,
    OrderItem,
    Segment,
    SegmentMembership,
)
from customers.services.segments import segment_refresh
from tests.factories import AttributeDefinitionFactory

pytestmark = pytest.mark.django_db

ASTRAL = "😀𝔘𠀀"  # outside the Basic Multilingual Plane: 2 UTF-16 units, 4 UTF-8 bytes each
RTL = "שלום مرحبا"
EARLIEST = "0001-01-02T00:00:00+00:00"
LATEST = "9999-12-30T23:59:59.999999+00:00"
RULE = {"field": "first_name", "op": "is_set"}  # every customer here


def fill(length: int, text: str = ASTRAL + RTL) -> str:
    return (text * length)[:length]


def deepest_json() -> dict:
    """A JSON object nested as deep as the API allows, keys and values astral and RTL."""
    value: object = {"n": -MAX_SAFE_INTEGER, RTL: ASTRAL, "f": 9.007199254740991e15}
    for _ in range(MAX_JSON_DEPTH - 1):
        value = {ASTRAL: value}
    return value  # type: ignore[return-value]


# external ids at their longest, written in astral and right-to-left text
EARLY = fill(255, "é" + ASTRAL + RTL)
LATE = fill(254, RTL + ASTRAL + "?#% ") + "#"  # characters a URL must escape, too
LONGEST_EMAIL = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com"  # 254 characters


def customer_item(external_id: str, **fields) -> dict:
    return {
        "external_id": external_id,
        "first_name": fill(150),
        "last_name": fill(150, RTL),
        "locale": "zh-Hant-TW",
        "timezone": "America/Argentina/ComodRivadavia",
        "lifecycle_stage": "customer",
        "attributes": {
            "note": fill(2000),
            "big": MAX_SAFE_INTEGER,
            "small": -MAX_SAFE_INTEGER,
            "ratio": 5e-324,
            "since": "0001-01-01",
        },
        "consents": [{"channel": "email", "status": "opted_in", "source": fill(100)}],
        **fields,
    }


@pytest.fixture
def extreme(api, django_capture_on_commit_callbacks):
    for key, kind in (("note", "string"), ("big", "number"), ("small", "number")):
        AttributeDefinitionFactory(key=key, type=kind)
    AttributeDefinitionFactory(key="ratio", type="number")
    AttributeDefinitionFactory(key="since", type="date")
    items = [
        customer_item(EARLY, email=LONGEST_EMAIL, birth_date="0001-01-01", created_at=EARLIEST),
        customer_item(LATE, phone="+79161234567", birth_date="9999-12-31", created_at=LATEST),
    ]
    events = [
        {
            "event_id": fill(255, ASTRAL),
            "customer_external_id": EARLY,
            "name": fill(100),
            "occurred_at": EARLIEST,
            "properties": deepest_json(),
            "source": fill(50),
        },
        {
            "event_id": fill(255, RTL),
            "customer_external_id": LATE,
            "name": fill(100, RTL),
            "occurred_at": LATEST,
            "properties": {"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "list": [None] * 100},
        },
    ]
    orders = [
        {
            "external_id": fill(255, ASTRAL + "o"),
            "customer_external_id": customer,
            "placed_at": placed_at,
            "total": "999999999999.99",
            "currency": "EUR",
            "promo_code": fill(100),
            "items": [
                {
                    "sku": fill(100),
                    "name": fill(255),
                    "category": fill(255, RTL),
                    "quantity": 1_000_000,
                    "price": "999999999999.99",
                }
            ],
        }
        for customer, placed_at in ((EARLY, EARLIEST), (LATE, LATEST))
    ]
    orders[1]["external_id"] = fill(255, RTL + "o")
    orders[1]["items"][0]["sku"] = fill(100, RTL)
    with django_capture_on_commit_callbacks(execute=False):
        for path, body in (
            ("/api/v1/customers/batch", {"items": items}),
            ("/api/v1/events/batch", {"items": events}),
            ("/api/v1/orders/batch", {"items": orders}),
            ("/api/v1/segments", {"name": fill(150), "description": fill(10_000), "rules": RULE}),
        ):
            response = api.post(path, body)
            assert response.status_code in (200, 201), (path, response.json())
        response = api.post(
            "/api/v1/messages",
            {
                "customer": LATE,
                "channel": "sms",
                "category": "transactional",
                "body": fill(20_000),
                "payload": deepest_json(),
                "idempotency_key": fill(255),
            },
        )
        assert response.status_code == 202, response.json()
    segment = Segment.objects.get()
    segment_refresh(segment=segment)
    return segment


def test_extreme_values_read_back_through_the_api(api, extreme):
    for external_id, created_at, birth_date in (
        (EARLY, EARLIEST, "0001-01-01"),
        (LATE, LATEST, "9999-12-31"),
    ):
        response = api.get(f"/api/v1/customers/{quote(external_id, safe='')}")
        assert response.status_code == 200
        body = response.json()
        assert body["external_id"] == external_id
        assert body["first_name"] == fill(150)
        assert body["birth_date"] == birth_date
        assert body["created_at"].replace("Z", "+00:00") == created_at
        assert body["attributes"]["big"] == MAX_SAFE_INTEGER
        assert body["attributes"]["ratio"] == 5e-324
        assert body["attributes"]["note"] == fill(2000)

        export = api.get(f"/api/v1/customers/{quote(external_id, safe='')}/export")
        assert export.status_code == 200
        assert export.json()["profile"]["external_id"] == external_id

    export = api.get(f"/api/v1/customers/{quote(EARLY, safe='')}/export").json()
    assert export["events"][0]["properties"] == deepest_json()
    [order] = export["orders"]
    assert (order["total"], order["items"][0]["price"]) == ("999999999999.99", "999999999999.99")
    assert order["items"][0]["quantity"] == 1_000_000
    assert order["placed_at"].replace("Z", "+00:00") == EARLIEST


def test_extreme_values_read_back_through_the_list_with_updated_since(api, extreme):
    seen, url = [], f"/api/v1/customers?updated_since={quote(EARLIEST)}&limit=1"
    while url:
        page = api.get(url)
        assert page.status_code == 200
        seen += [c["external_id"] for c in page.json()["results"]]
        url = page.json()["next"]
    assert sorted(seen) == sorted([EARLY, LATE])


def test_extreme_values_read_back_through_the_timeline(api, extreme):
    for external_id in (EARLY, LATE):
        kinds, cursor = set(), None
        while True:
            response = api.get(
                f"/api/v1/customers/{quote(external_id, safe='')}/timeline",
                {"limit": 1, **({"cursor": cursor} if cursor else {})},
            )
            assert response.status_code == 200
            kinds |= {entry["kind"] for entry in response.json()["results"]}
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert {"event", "order"} <= kinds


def test_extreme_values_read_back_through_the_members_list_and_csv(api, extreme):
    members = api.get(f"/api/v1/segments/{extreme.pk}/members")
    assert members.status_code == 200
    assert {m["external_id"] for m in members.json()["results"]} == {EARLY, LATE}
    response = api.get(f"/api/v1/segments/{extreme.pk}/members.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row[0] for row in rows[1:]} == {EARLY, LATE}
    assert {row[1] for row in rows[1:]} == {LONGEST_EMAIL, ""}


ADMIN_MODELS = [
    Customer,
    ChannelIdentity,
    Consent,
    ConsentChange,
    Event,
    Order,
    OrderItem,
    Segment,
    SegmentMembership,
    Message,
]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_extreme_values_read_back_through_every_admin_page(admin_client, settings, extreme, zone):
    settings.TIME_ZONE = zone  # the furthest ahead of and behind UTC
    for model in ADMIN_MODELS:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        for pk in model.objects.values_list("pk", flat=True):
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            assert admin_client.get(change).status_code == 200, change
