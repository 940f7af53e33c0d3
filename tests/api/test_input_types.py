"""Input that crashed the API when probed is now a 400 naming the field, and stores nothing.

The shared types are in api/types.py; these tests go through the endpoints, on SQLite and on
PostgreSQL (where NUL characters and out-of-range datetimes used to raise a 500).
"""

from datetime import UTC, datetime

import pytest

from api.types import (
    MAX_SAFE_INTEGER,
    InvalidJson,
    UtcDatetime,
    check_datetime,
    check_json,
    check_text,
)
from channels.models import Message, PushSubscription
from customers.models import (
    ConsentChange,
    Customer,
    Event,
    Order,
    Segment,
)
from tests.factories import AttributeDefinitionFactory, CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def event(**fields):
    return {
        "event_id": "e1",
        "customer_external_id": "c1",
        "name": "viewed",
        "occurred_at": "2026-01-01T00:00:00Z",
        **fields,
    }


def order(**fields):
    return {
        "external_id": "o1",
        "customer_external_id": "c1",
        "placed_at": "2026-01-01T00:00:00Z",
        "total": "10.00",
        "currency": "EUR",
        **fields,
    }


def message(**fields):
    return {"customer": "c1", "channel": "sms", "category": "transactional", "body": "hi", **fields}


# (method, path, body, the field the error must name)
BAD_REQUESTS = [
    # NUL in a string, a JSON key or a JSON value
    ("post", "/api/v1/customers", {"external_id": "a\u0000b"}, "external_id"),
    ("post", "/api/v1/customers", {"external_id": "n1", "first_name": "A\u0000"}, "first_name"),
    ("post", "/api/v1/customers", {"external_id": "n1", "email": "a\u0000@x.io"}, "email"),
    ("post", "/api/v1/customers/batch", {"items": [{"external_id": "\u0000"}]}, "external_id"),
    ("patch", "/api/v1/customers/c1", {"last_name": "\u0000"}, "last_name"),
    (
        "put",
        "/api/v1/customers/c1/consents/email",
        {"status": "opted_in", "source": "\u0000"},
        "source",
    ),
    ("post", "/api/v1/events/batch", {"items": [event(name="v\u0000")]}, "name"),
    ("post", "/api/v1/events/batch", {"items": [event(properties={"k\u0000": 1})]}, "properties"),
    (
        "post",
        "/api/v1/events/batch",
        {"items": [event(properties={"k": ["\u0000"]})]},
        "properties",
    ),
    ("post", "/api/v1/orders/batch", {"items": [order(promo_code="\u0000")]}, "promo_code"),
    ("post", "/api/v1/segments", {"name": "s\u0000"}, "name"),
    (
        "post",
        "/api/v1/segments",
        {"name": "s", "kind": "static", "description": "\u0000"},
        "description",
    ),
    (
        "post",
        "/api/v1/segments/preview",
        {"rules": {"field": "first_name", "op": "equals", "value": "\u0000"}},
        "rules",
    ),
    ("post", "/api/v1/messages", message(body="hi\u0000"), "body"),
    ("post", "/api/v1/messages", message(customer="c\u0000"), "customer"),
    ("post", "/api/v1/messages", message(payload={"\u0000": 1}), "payload"),
    (
        "post",
        "/api/v1/customers/c1/push-subscriptions",
        {"kind": "fcm", "token": "t\u0000"},
        "token",
    ),
    # a customer id that could not be read back at /customers/{external_id}
    ("post", "/api/v1/customers", {"external_id": "2026/17"}, "external_id"),
    ("post", "/api/v1/customers/batch", {"items": [{"external_id": "batch"}]}, "external_id"),
    (
        "post",
        "/api/v1/events/batch",
        {"items": [event(customer_external_id="..")]},
        "customer_external_id",
    ),
    # offsets PostgreSQL cannot store are normalised; years outside 1..9999 in UTC are refused
    (
        "post",
        "/api/v1/customers",
        {"external_id": "n1", "created_at": "0001-01-01T00:00:00+01:00"},
        "created_at",
    ),
    (
        "post",
        "/api/v1/events/batch",
        {"items": [event(occurred_at="9999-12-31T23:00:00-05:00")]},
        "occurred_at",
    ),
    (
        "post",
        "/api/v1/events/batch",
        {"items": [event(occurred_at="2026-01-01T00:00:00")]},
        "occurred_at",
    ),
    (
        "post",
        "/api/v1/orders/batch",
        {"items": [order(placed_at="0001-01-01T00:30:00+01:00")]},
        "placed_at",
    ),
    # JSON numbers that do not read back, and nesting a renderer cannot follow
    ("post", "/api/v1/events/batch", {"items": [event(properties={"x": 1e20})]}, "properties"),
    ("post", "/api/v1/events/batch", {"items": [event(properties={"x": 2**70})]}, "properties"),
    ("post", "/api/v1/events/batch", {"items": [event(properties={"x": -(2**53)})]}, "properties"),
    ("post", "/api/v1/events/batch", {"items": [event(properties=nested(100))]}, "properties"),
    ("post", "/api/v1/messages", message(payload={"x": 1e300}), "payload"),
    ("post", "/api/v1/segments/preview", {"rules": nested(40)}, "rules"),
    # null for a field that cannot be null
    ("patch", "/api/v1/customers/c1", {"external_id": None}, "external_id"),
    ("patch", "/api/v1/segments/{segment}", {"name": None}, "name"),
    ("patch", "/api/v1/segments/{segment}", {"description": None}, "description"),
    ("patch", "/api/v1/conversations/{conversation}", {"status": None}, "status"),
]


@pytest.fixture
def existing(db):
    customer = CustomerFactory(external_id="c1")
    segment = SegmentFactory(name="Existing")
    from channels.models import Conversation

    conversation = Conversation.objects.create(customer=customer, channel="sms")
    return {"segment": segment.pk, "conversation": conversation.pk}


def stored_counts() -> list[int]:
    return [
        model.objects.count()
        for model in (Customer, Event, Order, Segment, Message, ConsentChange, PushSubscription)
    ]


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_REQUESTS)
def test_input_that_cannot_be_stored_is_400_naming_the_field_and_stores_nothing(
    api, existing, method, path, body, field
):
    before = stored_counts()
    segment = Segment.objects.get(pk=existing["segment"])
    response = getattr(api, method)(path.format(**existing), body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field in {error["field"] for error in payload["errors"]}, payload
    assert "\u0000" not in response.content.decode()
    assert stored_counts() == before
    assert Segment.objects.get(pk=existing["segment"]).name == segment.name


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/a%00b",
        "/api/v1/customers/a%00b/timeline",
        "/api/v1/customers?search=%00",
        "/api/v1/customers/c1/timeline?cursor=%00",
        "/api/v1/customers/c1/push-subscriptions?token=t%00",
        "/api/v1/calls/lookup?phone=%00",
        "/api/v1/customers?%00=1",
        "/hooks/whatsapp/?hub.verify_token=%00",
    ],
)
def test_a_nul_in_a_path_or_query_parameter_is_a_json_400(api, existing, path):
    method = api.delete if "push-subscriptions" in path else api.get
    response = method(path)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] in {"path", "query", "search", "cursor", "token",
                                                      "phone", "hub.verify_token"}  # fmt: skip


@pytest.mark.parametrize("param", ["updated_since", "queued_since"])
@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00%2B05:00", "9999-12-31T23:59:59-05:00", "not-a-date"]
)
def test_a_since_filter_outside_the_calendar_is_400_naming_it(api, existing, param, value):
    path = "/api/v1/customers" if param == "updated_since" else "/api/v1/messages"
    response = api.get(f"{path}?{param}={value}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == param


def test_a_since_filter_with_an_offset_postgresql_cannot_store_is_read_in_utc(api, existing):
    response = api.get("/api/v1/customers?updated_since=2000-01-01T00:00:00%2B20:00")
    assert response.status_code == 200
    assert [c["external_id"] for c in response.json()["results"]] == ["c1"]


def test_a_datetime_with_an_offset_postgresql_cannot_store_is_stored_in_utc(api, existing):
    response = api.post(
        "/api/v1/events/batch", {"items": [event(occurred_at="2026-01-01T10:00:00+20:00")]}
    )
    assert response.status_code == 200
    assert Event.objects.get().occurred_at == datetime(2025, 12, 31, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "value"),
    [("Idempotency-Key", "k\u0000"), ("Authorization", "Bearer kk_\u0000_x"), ("X-Any", "\u0000")],
)
def test_a_header_with_a_nul_is_400_naming_it(client, write_key, existing, header, value):
    headers = {"Authorization": f"Bearer {write_key}", header: value}
    response = client.post(
        "/api/v1/customers", {"external_id": "n1"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": header, "message": "must not contain NUL characters"}
    ]
    assert not Customer.objects.filter(external_id="n1").exists()


def test_an_attribute_key_with_a_nul_is_quoted_without_the_nul(api, existing):
    AttributeDefinitionFactory(key="city")
    response = api.patch("/api/v1/customers/c1", {"attributes": {"ci\u0000ty": "Oslo"}})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "attributes"
    assert error["message"].startswith("ci\\0ty: must not contain NUL")


# --- the types themselves ---------------------------------------------------------------------


def test_text_refuses_nul_and_lone_surrogates():
    assert check_text("Анна 😀 שלום") == "Анна 😀 שלום"
    for bad in ("a\x00", "\ud800"):
        with pytest.raises(ValueError):
            check_text(bad)


def test_datetimes_are_normalised_to_utc_and_kept_a_day_inside_the_calendar():
    moment = datetime.fromisoformat("2026-01-01T00:00:00+23:59")
    assert check_datetime(moment).utcoffset().total_seconds() == 0
    assert check_datetime(datetime(1, 1, 2, tzinfo=UTC)) == datetime(1, 1, 2, tzinfo=UTC)
    for bad in (datetime(1, 1, 1, 23, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)):
        with pytest.raises(ValueError):
            check_datetime(bad)
    with pytest.raises(ValueError):
        check_datetime(datetime(2026, 1, 1))  # naive


def test_json_values_are_bounded_in_depth_and_numeric_range():
    assert check_json({"a": [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 1.5e15, None, True]})
    assert check_json(nested(31))
    for bad, where in [
        ({"a": [1, MAX_SAFE_INTEGER + 1]}, "a[1]"),
        ({"a": {"b": float("nan")}}, "a.b"),
        ({"a": 9.1e15}, "a"),
        (nested(33), ".".join(["a"] * 32)),
    ]:
        with pytest.raises(InvalidJson) as caught:
            check_json(bad)
        assert caught.value.path == where


def test_the_datetime_type_documents_itself_as_a_date_time():
    from pydantic import TypeAdapter

    assert TypeAdapter(UtcDatetime).json_schema()["format"] == "date-time"


def nested_raw(depth: int) -> str:
    """JSON text nested `depth` objects deep (json.dumps itself cannot go that deep)."""
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "depth",
    [41, 249, 253, 1020],
    ids=["past-the-api", "at-the-body-limit", "just-under-orjson-writing", "just-under-parsing"],
)
@pytest.mark.parametrize("idempotency_key", [None, "deep-1"])
@pytest.mark.parametrize(
    ("path", "template", "field"),
    [
        ("/api/v1/customers/batch", '{"items": [{"external_id": "x", "attributes": %s}]}', "items[0].attributes"),
        ("/api/v1/segments/preview", '{"rules": %s}', "rules"),
        ("/api/v1/messages", '{"customer": "c1", "channel": "sms", "category": "marketing", "payload": %s}', "payload"),
    ],
)  # fmt: skip
def test_a_body_nested_up_to_the_parsers_limit_is_400_naming_the_field(
    client, write_key, existing, depth, idempotency_key, path, template, field
):
    headers = {"Authorization": f"Bearer {write_key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key  # the body is hashed before it is validated
    before = stored_counts()
    response = client.post(
        path, template % nested_raw(depth), content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    # a batch names the item by its index; past 250 levels the parser names the whole path
    named = f"items[{error['index']}].{error['field']}" if "index" in error else error["field"]
    assert named.startswith(field), error
    assert stored_counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/admin/customers/customer/?q=%00",
        "/l/abc%00",
        "/preferences/tok%00en",
    ],
)
def test_a_nul_in_a_page_address_is_a_plain_400_not_a_server_error(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert b"NUL" in response.content
