"""Every cursor-paginated list answers a malformed or forged cursor with 400 `invalid_cursor`
naming the field, and follows its own `next` links."""

import json
from base64 import b64encode, urlsafe_b64encode

import pytest

from channels.models import Conversation, Message
from customers.services.segments import segment_refresh
from tests.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/customers",
    "/api/v1/segments",
    "/api/v1/segments/{segment}/members",
    "/api/v1/messages",
    "/api/v1/conversations",
]


@pytest.fixture
def two_of_each(db):
    customers = [CustomerFactory(first_name="Anna"), CustomerFactory(first_name="Anna")]
    segment = SegmentFactory(rules={"field": "first_name", "op": "equals", "value": "Anna"})
    SegmentFactory()
    segment_refresh(segment=segment)
    for customer in customers:
        Message.objects.create(
            customer=customer, channel="sms", category="transactional", source="api", body="Hi"
        )
        Conversation.objects.create(customer=customer, channel="sms")
    return {"segment": segment.pk}


def forged(position: str) -> str:
    """A cursor in DRF's own format, as a client could build it, but not signed by this API."""
    return b64encode(f"p={position}".encode()).decode()


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    ["garbage", "%00", forged("not-a-date"), forged("99999999999999999999999"), forged("1")],
    ids=["garbage", "nul", "forged-text", "forged-huge", "forged-plausible"],
)
def test_a_malformed_or_forged_cursor_is_400_invalid_cursor(read_api, two_of_each, path, cursor):
    response = read_api.get(f"{path.format(**two_of_each)}?cursor={cursor}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in {"invalid_cursor", "validation_error"}
    assert body["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("path", LISTS)
def test_the_next_cursor_a_list_gives_out_reads_the_next_page(read_api, two_of_each, path):
    first = read_api.get(f"{path.format(**two_of_each)}?limit=1").json()
    assert len(first["results"]) == 1 and first["next"]
    second = read_api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["results"] != first["results"]


@pytest.mark.parametrize(
    "position",
    [
        ["0001-01-01T00:00:00+01:00", "event", 1],
        ["2026-01-01T00:00:00", "event", 1],
        ["2026-01-01T00:00:00Z", "event", 2**70],
        ["2026-01-01T00:00:00Z", "event", "x"],
    ],
    ids=["before-year-1", "naive", "huge-id", "text-id"],
)
def test_a_hand_made_timeline_cursor_is_400_naming_the_cursor(read_api, position):
    CustomerFactory(external_id="c1")
    response = read_api.get("/api/v1/customers/c1/timeline", {"cursor": timeline_cursor(position)})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_a_timeline_cursor_with_an_offset_postgresql_cannot_store_is_read_in_utc(read_api):
    CustomerFactory(external_id="c1")
    cursor = timeline_cursor(["2026-01-01T00:00:00+20:00", "event", 1])
    response = read_api.get("/api/v1/customers/c1/timeline", {"cursor": cursor})
    assert response.status_code == 200


def timeline_cursor(position: list) -> str:
    return urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
