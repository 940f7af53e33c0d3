"""Voice: call events from the telephony webhook land in the call log and on the timeline, and the
caller lookup gives the agent the customer's card."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels.hooks.telephony import signature_for
from channels.models import CallLog, Conversation
from customers.timeline import customer_timeline
from tests.factories import (
    ChannelIdentityFactory,
    CustomerFactory,
    OrderFactory,
    RfmScoreFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "telephony-shared-secret"
HOOK = "/hooks/telephony/call"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET


def call_event(**fields):
    event = {
        "provider": "exolve",
        "call_id": "call-8f2c41",
        "direction": "inbound",
        "from": "+7 916 123-45-67",
        "to": "+7 495 123-45-67",
        "status": "ringing",
        "started_at": "2025-05-14T10:03:00Z",
    }
    event.update(fields)
    return {key: value for key, value in event.items() if value is not None}


def post_event(client, event, *, secret=SECRET, signature=None):
    body = json.dumps(event).encode()
    header = signature if signature is not None else signature_for(body, secret)
    return client.post(
        HOOK, body, content_type="application/json", headers={"X-Kaskad-Signature": header}
    )


# --- the telephony webhook ----------------------------------------------------------------


def test_a_signed_call_event_is_logged_for_the_caller_and_shown_on_the_timeline(client):
    anna = CustomerFactory(phone="+79161234567")

    response = post_event(client, call_event())

    assert response.status_code == 200
    assert response.json()["customer_matched"] is True
    call = CallLog.objects.get()
    assert call.customer == anna
    assert (call.provider, call.provider_call_id) == ("exolve", "call-8f2c41")
    assert (call.direction, call.phone, call.status) == ("inbound", "+79161234567", "ringing")
    assert call.started_at == datetime(2025, 5, 14, 10, 3, tzinfo=UTC)
    entries = customer_timeline(anna.pk, kinds=["call"]).entries
    assert [(e.kind, e.id, e.title) for e in entries] == [
        ("call", call.pk, "Inbound call: ringing")
    ]


def test_later_events_of_the_same_call_update_one_row(client):
    anna = CustomerFactory(phone="+79161234567")
    post_event(client, call_event())
    post_event(client, call_event(status="answered"))
    post_event(
        client,
        call_event(
            status="completed", duration=125, recording_url="https://rec.exolve.example/8f2c41.mp3"
        ),
    )

    call = CallLog.objects.get()
    assert (call.status, call.duration_seconds) == ("completed", 125)
    assert call.recording_url == "https://rec.exolve.example/8f2c41.mp3"
    (entry,) = customer_timeline(anna.pk, kinds=["call"]).entries
    assert entry.title == "Inbound call: completed, 2:05"


def test_a_repeated_or_late_event_changes_nothing(client):
    CustomerFactory(phone="+79161234567")
    post_event(client, call_event(status="completed", duration=125))
    before = CallLog.objects.values("status", "duration_seconds", "started_at").get()

    assert post_event(client, call_event(status="completed", duration=125)).status_code == 200
    assert post_event(client, call_event(status="ringing")).status_code == 200

    assert CallLog.objects.count() == 1
    assert CallLog.objects.values("status", "duration_seconds", "started_at").get() == before


def test_an_outbound_call_belongs_to_the_number_called(client):
    boris = CustomerFactory(phone="+79031112233")
    post_event(
        client,
        call_event(direction="outbound", **{"from": "+74951234567", "to": "8 (903) 111-22-33"}),
    )
    assert CallLog.objects.get().customer == boris


def test_a_caller_known_only_by_a_whatsapp_identity_is_found(client):
    customer = CustomerFactory(phone="")
    ChannelIdentityFactory(customer=customer, channel="whatsapp", address="+79161234567")
    post_event(client, call_event())
    assert CallLog.objects.get().customer == customer


def test_an_unknown_or_hidden_caller_is_logged_without_a_customer(client):
    post_event(client, call_event(call_id="a"))
    post_event(client, call_event(call_id="b", **{"from": "anonymous"}))
    assert list(CallLog.objects.order_by("provider_call_id").values_list("phone", "customer")) == [
        ("+79161234567", None),
        ("anonymous", None),
    ]


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, signature_for(b"another body", SECRET)],
    ids=["missing", "wrong", "for-another-body"],
)
def test_a_forged_event_is_403_and_nothing_is_stored(client, signature):
    CustomerFactory(phone="+79161234567")
    response = post_event(client, call_event(), signature=signature)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert not CallLog.objects.exists()


def test_an_event_signed_with_another_secret_is_refused(client):
    assert post_event(client, call_event(), secret="not-the-secret").status_code == 403
    assert not CallLog.objects.exists()


def test_without_a_configured_secret_every_event_is_refused(client, settings):
    settings.TELEPHONY_WEBHOOK_SECRET = ""
    assert post_event(client, call_event(), secret="").status_code == 403
    assert not CallLog.objects.exists()


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (call_event(call_id=None), "call_id"),
        (call_event(direction="sideways"), "direction"),
        (call_event(started_at="yesterday"), "started_at"),
        (call_event(duration=-5), "duration"),
        (call_event(status=None), "status"),
        (call_event(recording_url="ftp://rec"), "recording_url"),
        (call_event(**{"from": None}), "from"),
    ],
)
def test_a_malformed_event_is_400_naming_the_field(client, event, field):
    response = post_event(client, event)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": field, "message": response.json()["errors"][0]["message"]}
    ]
    assert not CallLog.objects.exists()


def test_a_body_that_is_not_a_json_object_is_400(client):
    body = b"[1, 2]"
    response = client.post(
        HOOK,
        body,
        content_type="application/json",
        headers={"X-Kaskad-Signature": signature_for(body, SECRET)},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


# --- the caller lookup --------------------------------------------------------------------


@pytest.fixture
def anna():
    customer = CustomerFactory(
        external_id="crm-anna",
        first_name="Анна",
        last_name="Смирнова",
        email="anna@example.com",
        phone="+79161234567",
        locale="ru-RU",
    )
    RfmScoreFactory(customer=customer, segment="champions")
    SegmentMembershipFactory(customer=customer, segment=SegmentFactory(name="VIP"))
    SegmentMembershipFactory(customer=customer, segment=SegmentFactory(name="Gamers"))
    now = timezone.now()
    for days, number in [(30, "o-1"), (3, "o-4"), (10, "o-3"), (20, "o-2")]:
        OrderFactory(
            customer=customer,
            external_id=number,
            placed_at=now - timedelta(days=days),
            total=Decimal("1990.00"),
            status="completed",
        )
    return customer


@pytest.mark.parametrize("notation", ["+7 916 123-45-67", "8 (916) 123-45-67", "+79161234567"])
def test_the_caller_card_is_found_by_any_phone_notation(read_api, anna, notation):
    response = read_api.get("/api/v1/calls/lookup", {"phone": notation})

    assert response.status_code == 200, response.json()
    card = response.json()
    assert card["customer"] == {
        "external_id": "crm-anna",
        "name": "Анна Смирнова",
        "email": "anna@example.com",
        "phone": "+79161234567",
        "locale": "ru-RU",
    }
    assert card["rfm_segment"] == "champions"
    assert card["segments"] == ["Gamers", "VIP"]
    assert [o["external_id"] for o in card["last_orders"]] == ["o-4", "o-3", "o-2"]
    assert card["last_orders"][0]["total"] == "1990.00"
    assert card["last_orders"][0]["currency"] == "RUB"
    assert card["last_orders"][0]["status"] == "completed"
    assert card["open_conversation"] is None
    assert card["greeting"] == "Здравствуйте, Анна!"


def test_the_card_shows_the_open_conversation(read_api, anna):
    Conversation.objects.create(customer=anna, channel="whatsapp", status="resolved")
    open_one = Conversation.objects.create(customer=anna, channel="telegram", status="open")
    card = read_api.get("/api/v1/calls/lookup", {"phone": "+79161234567"}).json()
    assert card["open_conversation"]["id"] == open_one.pk
    assert card["open_conversation"]["channel"] == "telegram"
    assert card["open_conversation"]["status"] == "open"


def test_an_english_speaking_caller_is_greeted_in_english(read_api):
    CustomerFactory(first_name="Anna", phone="+447911123456", locale="en-GB")
    card = read_api.get("/api/v1/calls/lookup", {"phone": "+44 7911 123456"}).json()
    assert card["greeting"] == "Hello, Anna!"
    assert card["rfm_segment"] is None and card["segments"] == [] and card["last_orders"] == []


def test_a_caller_known_by_an_sms_identity_is_found(read_api):
    customer = CustomerFactory(phone="")
    ChannelIdentityFactory(customer=customer, channel="sms", address="+79035556677")
    card = read_api.get("/api/v1/calls/lookup", {"phone": "8 903 555 66 77"}).json()
    assert card["customer"]["external_id"] == customer.external_id


def test_an_unknown_phone_is_404(read_api, anna):
    response = read_api.get("/api/v1/calls/lookup", {"phone": "+7 999 000-00-00"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("phone", ["not a phone", "123", ""])
def test_an_invalid_phone_is_400_naming_phone(read_api, phone):
    response = read_api.get("/api/v1/calls/lookup", {"phone": phone})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] == "phone"


def test_the_lookup_needs_an_api_key(client):
    assert client.get("/api/v1/calls/lookup", {"phone": "+79161234567"}).status_code == 401


def test_the_lookup_uses_only_indexed_queries(read_api, anna):
    """On PostgreSQL, every query of the lookup must be answered from an index, not a scan."""
    with CaptureQueriesContext(connection) as queries:
        assert read_api.get("/api/v1/calls/lookup", {"phone": "+79161234567"}).status_code == 200
    lookups = [q["sql"] for q in queries.captured_queries if "api_apikey" not in q["sql"]]
    assert len(lookups) <= 6
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a missing index would still show as Seq Scan
        try:
            for sql in lookups:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan" not in plan, plan
        finally:
            cursor.execute("SET enable_seqscan = on")
