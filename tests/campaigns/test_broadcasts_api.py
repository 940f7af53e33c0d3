"""API v1 for broadcasts: create, change, schedule, launch, pause, resume, cancel, results and
recipients, over the real engine (chunk tasks are run here, as a worker would)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from api.models import AuditEntry
from api.services import api_key_create
from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientGroup,
    RecipientState,
)
from campaigns.broadcasts.services.sending import broadcast_chunk_send
from campaigns.message_templates.services import template_archive, template_create
from campaigns.promo.services import promo_pool_create
from channels.models import Message, MessageStatus
from customers.models import ConsentStatus, Segment
from tests.campaigns.broadcast_data import run_chunks
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]

BROADCASTS = "/api/v1/broadcasts"
EMAIL = {
    "subject": "{{ customer.first_name }}, a gift",
    "html": "<p>Hi {{ customer.first_name }}</p>",
}


@pytest.fixture(scope="module")
def components():
    return yaml.safe_load(Client().get("/api/v1/schema/").content)["components"]


def assert_documented(components, name: str, body) -> None:
    """The body matches the schema's component `name`, as clients generated from it expect."""
    Draft202012Validator({**components["schemas"][name], "components": components}).validate(body)


def audience(n: int, prefix: str | None = None) -> Segment:
    segment = SegmentFactory()
    for i in range(n):
        ids = {"external_id": f"{prefix}{i}"} if prefix else {}
        customer = CustomerFactory(first_name=f"Name{i}", **ids)
        ConsentFactory(customer=customer, channel="email", status=ConsentStatus.OPTED_IN)
        SegmentMembershipFactory(segment=segment, customer=customer)
    return segment


def template(name="Sale", variants=None, category="marketing"):
    return template_create(name=name, category=category, variants=variants or {"email": EMAIL})


def client_with(*scopes: str) -> APIClient:
    _, raw_key = api_key_create(name="+".join(scopes), scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.default_format = "json"
    return client


def create(api, **fields) -> dict:
    body = {"name": "Sale", "channel": "email", **fields}
    body.setdefault("template", template().pk)
    body.setdefault("segment", audience(3).pk)
    response = api.post(BROADCASTS, body)
    assert response.status_code == 201, response.json()
    return response.json()


def launch(api, broadcast_id: int, django_capture_on_commit_callbacks, **headers):
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(f"{BROADCASTS}/{broadcast_id}/launch", **headers)


def test_a_broadcast_is_created_as_a_draft_and_read_back(api):
    pool = promo_pool_create(name="Gift", code_length=8)
    other = template("Other")
    made = create(
        api,
        promo_pool=pool.pk,
        holdout_percent=10,
        timing="local",
        local_time="10:30",
        test_percent=20,
        ab_metric="converted",
        variants=[{}, {"template": other.pk, "subject": "Only today"}],
    )
    assert made["status"] == "draft" and made["promo_pool"] == pool.pk
    assert made["local_time"] == "10:30" and made["holdout_percent"] == 10
    assert [(v["key"], v["template"], v["subject"]) for v in made["variants"]] == [
        ("A", None, ""),
        ("B", other.pk, "Only today"),
    ]
    assert made["progress"] == {
        "status": "draft",
        "audience": 0,
        "held": 0,
        "test": 0,
        "target": 0,
        "processed": 0,
        "queued": 0,
        "suppressed": 0,
        "percent": 0.0,
    }
    assert api.get(f"{BROADCASTS}/{made['id']}").json() == made
    assert AuditEntry.objects.filter(action="broadcast.create").count() == 1


def _invalid_bodies():
    """(changes to a valid body, the field the 400 names). Ids 999999 exist nowhere."""
    return [
        ({"name": "  "}, "name"),
        ({"template": 999999}, "template"),
        ({"segment": 999999}, "segment"),
        ({"promo_pool": 999999}, "promo_pool"),
        ({"channel": "fax"}, "channel"),
        ({"channel": None}, "channel"),
        ({"channel": "sms"}, "template"),  # the template has no SMS variant
        ({"channel": None, "channel_order": ["email", "email"]}, "channel_order"),
        ({"holdout_percent": 80}, "holdout_percent"),
        ({"test_percent": 20}, "variants"),  # a test needs two variants
        ({"variants": [{}, {}]}, "test_percent"),  # two variants need a test
        ({"test_percent": 20, "variants": [{}, {"template": 999999}]}, "variants[1].template"),
        ({"test_percent": 20, "variants": [{}, {"channel": "sms"}]}, "variants"),
        ({"test_percent": 20, "test_hours": 0, "variants": [{}, {}]}, "test_hours"),
        ({"ab_metric": "likes"}, "ab_metric"),
        ({"conversion_days": 91}, "conversion_days"),
        ({"timing": "later"}, "timing"),
        ({"timing": "at"}, "send_at"),
        ({"timing": "at", "send_at": "2026-12-24T10:00:00"}, "send_at"),  # no time zone
        ({"timing": "local"}, "local_time"),
        ({"timing": "local", "local_time": "25:00"}, "local_time"),
        ({"timing": "local", "local_time": "10:00+03:00"}, "local_time"),
        ({"timing": "local", "local_time": "10:00:30"}, "local_time"),
        ({"colour": "red"}, "colour"),
    ]


@pytest.mark.parametrize(("changes", "field"), _invalid_bodies())
def test_each_invalid_field_is_a_400_naming_it_and_nothing_is_stored(api, changes, field):
    body = {"name": "Sale", "template": template().pk, "segment": audience(1).pk}
    body["channel"] = "email"
    response = api.post(BROADCASTS, {**body, **changes})
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Broadcast.objects.exists()


def test_a_transactional_or_archived_template_is_refused_naming_template(api):
    segment = audience(1).pk
    receipt = template("Receipt", category="transactional")
    archived = template_archive(template("Old"))
    for refused in (receipt, archived):
        response = api.post(
            BROADCASTS,
            {"name": "x", "template": refused.pk, "segment": segment, "channel": "email"},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "template"
    assert not Broadcast.objects.exists()


def test_the_list_pages_with_a_signed_cursor_and_filters_by_status(api):
    segment, sale = audience(1).pk, template().pk
    made = [create(api, name=f"B{i}", segment=segment, template=sale)["id"] for i in range(3)]
    Broadcast.objects.filter(pk=made[0]).update(status=BroadcastStatus.SENT)
    first = api.get(BROADCASTS, {"limit": 2}).json()
    assert [b["id"] for b in first["results"]] == [made[2], made[1]]
    second = api.get(first["next"]).json()
    assert [b["id"] for b in second["results"]] == [made[0]] and second["next"] is None
    forged = api.get(BROADCASTS, {"cursor": "cD0x"})
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_cursor"
    sent = api.get(BROADCASTS, {"status": "sent"}).json()["results"]
    assert [b["id"] for b in sent] == [made[0]]
    wrong = api.get(BROADCASTS, {"status": "done"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "status"


def test_a_draft_is_changed_and_a_launched_broadcast_is_409(
    api, published, django_capture_on_commit_callbacks
):
    made = create(api)
    url = f"{BROADCASTS}/{made['id']}"
    changed = api.patch(url, {"name": "Winter sale", "holdout_percent": 20})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["holdout_percent"]) == ("Winter sale", 20)
    # channel_order alone switches to each customer's preferred channel
    fallback = api.patch(url, {"channel_order": ["email"]}).json()
    assert (fallback["channel"], fallback["channel_order"]) == ("", ["email"])
    assert api.patch(url, {"name": None}).json()["errors"][0]["field"] == "name"
    assert api.patch(url, {"template": 999999}).json()["errors"][0]["field"] == "template"
    bad = api.patch(url, {"holdout_percent": 60})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "holdout_percent"
    assert Broadcast.objects.get(pk=made["id"]).holdout_percent == 20
    assert launch(api, made["id"], django_capture_on_commit_callbacks).status_code == 200
    refused = api.patch(url, {"name": "Too late"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "wrong_status"
    assert refused.json()["errors"][0]["field"] == "status"
    assert Broadcast.objects.get(pk=made["id"]).name == "Winter sale"


def test_launch_snapshots_the_segment_publishes_chunks_and_the_recipients_are_listed(
    api, published, django_capture_on_commit_callbacks, components
):
    made = create(api, segment=audience(5, prefix="c").pk)
    response = launch(api, made["id"], django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "sending" and body["launched_at"]
    assert_documented(components, "Broadcast", body)
    assert body["progress"]["audience"] == 5 and body["variants"][0]["version"] == 1
    assert len(published) == 1  # one chunk of up to 1,000 recipients
    assert BroadcastRecipient.objects.filter(broadcast_id=made["id"]).count() == 5
    assert not Message.objects.exists()  # nothing is rendered before the chunk runs
    assert run_chunks(published) == 5
    assert Message.objects.filter(source_ref=f"broadcast:{made['id']}:A").count() == 5
    progress = api.get(f"{BROADCASTS}/{made['id']}").json()["progress"]
    assert (progress["processed"], progress["queued"], progress["percent"]) == (5, 5, 100.0)
    listed = api.get(f"{BROADCASTS}/{made['id']}/recipients", {"limit": 3}).json()
    assert [r["customer_external_id"] for r in listed["results"]] == ["c0", "c1", "c2"]
    first = listed["results"][0]
    assert_documented(components, "BroadcastRecipient", first)
    assert (first["state"], first["group"], first["variant"], first["channel"]) == (
        "queued",
        "main",
        "A",
        "email",
    )
    assert first["message_id"] == Message.objects.get(customer__external_id="c0").pk
    rest = api.get(listed["next"]).json()["results"]
    assert [r["customer_external_id"] for r in rest] == ["c3", "c4"]
    again = launch(api, made["id"], django_capture_on_commit_callbacks)
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"
    assert not published  # a refused launch publishes nothing


def test_a_launch_retried_with_the_same_idempotency_key_replays_the_first_answer(
    api, published, django_capture_on_commit_callbacks
):
    made = create(api)
    first = launch(api, made["id"], django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="l-1")
    retry = launch(api, made["id"], django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="l-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert len(published) == 1
    assert AuditEntry.objects.filter(action="broadcast.launch").count() == 1
    other = launch(api, made["id"], django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="l-2")
    assert other.status_code == 409


def test_a_create_retried_with_the_same_key_makes_one_broadcast(api):
    body = {
        "name": "Once",
        "template": template().pk,
        "segment": audience(1).pk,
        "channel": "email",
    }
    first = api.post(BROADCASTS, body, HTTP_IDEMPOTENCY_KEY="c-1")
    retry = api.post(BROADCASTS, body, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert Broadcast.objects.count() == 1
    assert (
        api.post(BROADCASTS, {**body, "name": "Twice"}, HTTP_IDEMPOTENCY_KEY="c-1").status_code
        == 422
    )


def test_pause_resume_and_cancel(api, published, django_capture_on_commit_callbacks, enqueued):
    made = create(api, segment=audience(4).pk)
    url = f"{BROADCASTS}/{made['id']}"
    assert api.post(f"{url}/pause").json()["code"] == "wrong_status"  # a draft is not sending
    launch(api, made["id"], django_capture_on_commit_callbacks)
    chunk = published.pop(0)
    paused = api.post(f"{url}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert broadcast_chunk_send(*chunk) == 0  # a paused broadcast takes no one
    assert api.post(f"{url}/pause").status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        resumed = api.post(f"{url}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "sending"
    assert run_chunks(published) == 4  # resume published the pending recipients again
    assert api.post(f"{url}/resume").status_code == 409
    cancelled = api.post(f"{url}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"]
    assert set(Message.objects.values_list("status", "status_reason")) == {
        (MessageStatus.SUPPRESSED, "broadcast cancelled")
    }
    assert api.post(f"{url}/cancel").status_code == 409
    assert api.post(f"{BROADCASTS}/999999/cancel").status_code == 404


def test_a_draft_with_a_future_time_is_scheduled_and_a_past_time_is_400(api):
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    made = create(api, timing="at", send_at=later)
    scheduled = api.post(f"{BROADCASTS}/{made['id']}/schedule")
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    assert api.post(f"{BROADCASTS}/{made['id']}/schedule").status_code == 409
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    stale = create(api, timing="at", send_at=past)
    refused = api.post(f"{BROADCASTS}/{stale['id']}/schedule")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "send_at"
    now = create(api)
    refused = api.post(f"{BROADCASTS}/{now['id']}/schedule")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "send_at"


def test_results_give_each_variant_the_holdout_and_the_uplift(
    api, published, django_capture_on_commit_callbacks, components
):
    segment = audience(60)
    other = template("Other", {"email": {**EMAIL, "subject": "Other"}})
    made = create(
        api,
        segment=segment.pk,
        holdout_percent=30,
        test_percent=100,
        variants=[{}, {"template": other.pk}],
    )
    url = f"{BROADCASTS}/{made['id']}"
    empty = api.get(f"{url}/results").json()
    assert (empty["status"], empty["refreshed_at"], empty["variants"]) == ("draft", None, [])
    assert empty["total"]["revenue"] == "0.00" and empty["holdout"] is None
    assert_documented(components, "BroadcastResults", empty)
    launch(api, made["id"], django_capture_on_commit_callbacks)
    run_chunks(published)
    now = timezone.now()
    sent = Message.objects.filter(source_ref__startswith=f"broadcast:{made['id']}:")
    sent.update(status="sent", sent_at=now)
    sent.filter(source_ref__endswith=":B").update(opened_at=now, clicked_at=now)
    buyer = sent.first().customer_id
    OrderFactory(customer_id=buyer, placed_at=now + timedelta(hours=1), total=Decimal("99.50"))
    stale = api.get(f"{url}/results").json()
    assert stale["refreshed_at"] is None and stale["variants"] == []  # the tick has not run
    report = api.get(f"{url}/results", {"refresh": "1"}).json()
    assert report["refreshed_at"] and report["status"] == "testing"
    assert_documented(components, "BroadcastResults", report)
    held = BroadcastRecipient.objects.filter(broadcast_id=made["id"], group=RecipientGroup.HOLDOUT)
    assert report["holdout"]["audience"] == held.count() == report["progress"]["held"] > 0
    assert report["progress"]["target"] == report["progress"]["test"] == 60 - held.count()
    assert [v["key"] for v in report["variants"]] == ["A", "B"]
    a, b = report["variants"]
    assert (a["template"], b["template"]) == ("Sale", "Other")
    assert a["sent"] + b["sent"] == sent.count() == report["total"]["sent"]
    assert b["clicked"] == b["sent"] and a["clicked"] == 0
    assert b["rates"]["click_rate"] == 1.0 and a["rates"]["click_rate"] == 0.0
    assert b["hourly"][0]["opened"] == b["sent"]
    assert report["total"]["converted"] == 1 and report["total"]["revenue"] == "99.50"
    assert isinstance(report["total"]["rates"]["revenue_per_recipient"], str)
    assert report["uplift"]["holdout_conversion_rate"] == 0.0
    assert report["uplift"]["incremental_revenue"] == "99.50"
    assert report["ab"]["metric"] == "clicked" and report["ab"]["winner"] is None
    assert api.get(f"{url}/results", {"refresh": "yes"}).status_code == 400


def test_recipients_are_filtered_by_state_group_and_variant(
    api, published, django_capture_on_commit_callbacks
):
    made = create(api, segment=audience(30).pk, holdout_percent=30)
    url = f"{BROADCASTS}/{made['id']}/recipients"
    launch(api, made["id"], django_capture_on_commit_callbacks)
    recipients = BroadcastRecipient.objects.filter(broadcast_id=made["id"])
    held = recipients.filter(state=RecipientState.HELD).count()
    assert 0 < held < 30
    assert len(api.get(url, {"group": "holdout", "limit": 100}).json()["results"]) == held
    assert len(api.get(url, {"state": "pending", "limit": 100}).json()["results"]) == 30 - held
    assert len(api.get(url, {"variant": "A", "limit": 100}).json()["results"]) == 30 - held
    assert api.get(url, {"variant": "B"}).json()["results"] == []
    for name, value in (("state", "gone"), ("group", "vip"), ("variant", "Z"), ("limit", "0")):
        response = api.get(url, {name: value})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == name
    assert api.get(f"{BROADCASTS}/999999/recipients").status_code == 404


def test_each_operation_needs_its_scope(api, published, django_capture_on_commit_callbacks):
    made = create(api)
    url = f"{BROADCASTS}/{made['id']}"
    body = {"name": "x", "template": made["template"], "segment": made["segment"]}
    reader = client_with("read")
    for path in (BROADCASTS, url, f"{url}/results", f"{url}/recipients"):
        assert reader.get(path).status_code == 200, path
    refused = reader.post(BROADCASTS, {**body, "channel": "email"})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert "write" in refused.json()["message"]
    assert reader.patch(url, {"name": "y"}).status_code == 403
    writer = client_with("write")
    assert writer.get(BROADCASTS).status_code == 403
    assert writer.post(BROADCASTS, {**body, "channel": "email"}).status_code == 201
    # Launching, scheduling and resuming send messages: they need messages:send.
    for action in ("launch", "schedule", "resume"):
        response = writer.post(f"{url}/{action}")
        assert response.status_code == 403, action
        assert "messages:send" in response.json()["message"]
    assert Broadcast.objects.get(pk=made["id"]).status == BroadcastStatus.DRAFT
    sender = client_with("messages:send")
    assert launch(sender, made["id"], django_capture_on_commit_callbacks).status_code == 200
    assert writer.post(f"{url}/pause").status_code == 200
    assert writer.post(f"{url}/cancel").status_code == 200


def test_a_segment_a_broadcast_was_sent_to_cannot_be_deleted(api):
    made = create(api)
    response = api.delete(f"/api/v1/segments/{made['segment']}")
    assert response.status_code == 409 and response.json()["code"] == "segment_in_use"
    assert Segment.objects.filter(pk=made["segment"]).exists()
