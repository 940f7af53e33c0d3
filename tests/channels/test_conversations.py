"""Conversations API: the inbox with filters, one thread in and out, status and assignee, replies."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels.models import Conversation, Message, WebhookDelivery, WebhookSubscription
from channels.services.inbound import inbound_receive
from channels.services.webhooks_out import forget_webhook_subscriptions

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_hook(db):
    WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret="s", event_types=["conversation.updated"]
    )
    forget_webhook_subscriptions()


@pytest.fixture
def agent(db):
    return get_user_model().objects.create_user(username="olga", password="x", is_staff=True)


_ids = iter(range(1, 10_000))


def customer_writes(customer, body="Hello", channel="sms", at=None):
    return inbound_receive(
        channel=channel,
        provider="exolve" if channel == "sms" else channel,
        address=customer.phone,
        body=body,
        provider_message_id=f"c-{next(_ids)}",
        payload={},
        received_at=at,
    )


@pytest.fixture
def conversation(reachable_customer):
    customer = reachable_customer("sms", external_id="crm-1")
    return customer_writes(customer, "Где мой заказ?").conversation


def url(conversation_or_id=None, suffix=""):
    if conversation_or_id is None:
        return "/api/v1/conversations"
    pk = getattr(conversation_or_id, "pk", conversation_or_id)
    return f"/api/v1/conversations/{pk}{suffix}"


# --- List ---------------------------------------------------------------------------------------
def test_the_inbox_lists_conversations_most_recently_active_first(read_api, reachable_customer):
    now = timezone.now()
    anna = reachable_customer("sms", external_id="anna")
    boris = reachable_customer("sms", external_id="boris")
    older = customer_writes(anna, at=now - timedelta(hours=2)).conversation
    newer = customer_writes(boris, at=now - timedelta(hours=1)).conversation

    response = read_api.get(url())

    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["id"] for c in results] == [newer.pk, older.pk]
    assert results[0] == {
        "id": newer.pk,
        "customer": "boris",
        "channel": "sms",
        "status": "open",
        "assignee": None,
        "opened_at": newer.opened_at.isoformat().replace("+00:00", "Z"),
        "last_message_at": newer.last_message_at.isoformat().replace("+00:00", "Z"),
        "resolved_at": None,
    }


def test_the_inbox_filters_by_status_channel_customer_and_assignee(
    read_api, reachable_customer, agent
):
    anna = reachable_customer("sms", external_id="anna")
    boris = reachable_customer("whatsapp", external_id="boris")
    anna_sms = customer_writes(anna).conversation
    boris_whatsapp = customer_writes(boris, channel="whatsapp").conversation
    Conversation.objects.filter(pk=boris_whatsapp.pk).update(status="pending", assignee=agent)

    def ids(**params):
        response = read_api.get(url(), params)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["results"]]

    assert ids(status="pending") == [boris_whatsapp.pk]
    assert ids(channel="sms") == [anna_sms.pk]
    assert ids(customer="anna") == [anna_sms.pk]
    assert ids(assignee="olga") == [boris_whatsapp.pk]
    assert ids(assignee="none") == [anna_sms.pk]
    assert ids(status="resolved") == []


def test_an_unknown_status_filter_is_a_400(read_api):
    response = read_api.get(url(), {"status": "closed"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


# --- Detail -------------------------------------------------------------------------------------
def test_a_conversation_shows_its_messages_in_and_out_merged_by_time(api, conversation):
    reply = api.post(url(conversation, "/messages"), {"body": "Заказ в пути"}).json()
    customer_writes(conversation.customer, "Спасибо!")

    response = api.get(url(conversation))

    assert response.status_code == 200
    thread = response.json()["messages"]
    assert [(m["direction"], m["body"]) for m in thread] == [
        ("in", "Где мой заказ?"),
        ("out", "Заказ в пути"),
        ("in", "Спасибо!"),
    ]
    assert thread[1]["id"] == reply["id"]
    assert (thread[1]["source"], thread[1]["status"]) == ("agent", "queued")


def test_an_unknown_conversation_is_a_404(api):
    for response in (
        api.get(url(999)),
        api.patch(url(999), {"status": "resolved"}),
        api.post(url(999, "/messages"), {"body": "Hi"}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- Status and assignee ------------------------------------------------------------------------
def test_resolving_a_conversation_records_when_and_tells_the_crm(api, conversation, crm_hook):
    response = api.patch(url(conversation), {"status": "resolved"})
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    conversation.refresh_from_db()
    assert conversation.resolved_at is not None
    event = WebhookDelivery.objects.get().payload
    assert (event["type"], event["data"]["id"], event["data"]["status"]) == (
        "conversation.updated",
        conversation.pk,
        "resolved",
    )


def test_assigning_and_unassigning_an_agent_by_username(api, conversation, agent):
    response = api.patch(url(conversation), {"assignee": "olga"})
    assert response.json()["assignee"] == "olga"
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    response = api.patch(url(conversation), {"assignee": None})
    assert response.json()["assignee"] is None


def test_a_patch_that_changes_nothing_tells_the_crm_nothing(api, conversation, crm_hook):
    assert api.patch(url(conversation), {"status": "open"}).status_code == 200
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"status": None}, "status"),
        ({"assignee": "nobody"}, "assignee"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_a_bad_patch_is_a_400_naming_the_field(api, conversation, body, field):
    response = api.patch(url(conversation), body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee) == ("open", None)


def test_a_read_only_key_cannot_change_a_conversation(read_api, conversation):
    response = read_api.patch(url(conversation), {"status": "resolved"})
    assert response.status_code == 403


# --- Replies ------------------------------------------------------------------------------------
def test_an_agent_reply_is_queued_on_the_conversations_channel(api, conversation):
    response = api.post(url(conversation, "/messages"), {"body": "Заказ в пути"})
    assert response.status_code == 202
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert (data["status"], data["status_reason"]) == ("queued", "")
    assert data["conversation"]["id"] == conversation.pk
    assert (message.channel, message.address) == ("sms", conversation.customer.phone)
    assert (message.category, message.source, message.source_ref) == (
        "transactional",
        "agent",
        "api:crm",
    )
    assert message.conversation == conversation


def test_a_reply_with_the_same_idempotency_key_sends_once(api, conversation):
    body = {"body": "Заказ в пути", "idempotency_key": "reply-1"}
    first = api.post(url(conversation, "/messages"), body).json()
    second = api.post(url(conversation, "/messages"), body).json()
    assert first["id"] == second["id"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"body": ""}, "body"), ({"body": "Hi", "html": "<p>"}, "html")],
)
def test_a_bad_reply_is_a_400_and_sends_nothing(api, conversation, body, field):
    response = api.post(url(conversation, "/messages"), body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Message.objects.exists()


def test_a_reply_to_an_opted_out_customer_is_accepted_and_suppressed_with_the_reason(
    api, reachable_customer
):
    customer = reachable_customer("sms", consent="opted_out")
    conversation = customer_writes(customer).conversation
    response = api.post(url(conversation, "/messages"), {"body": "Hi"})
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["status_reason"]) == (
        "suppressed",
        "consent: opted out of sms",
    )


def test_replying_to_a_resolved_conversation_reopens_it_as_pending(api, conversation, crm_hook):
    api.patch(url(conversation), {"status": "resolved"})
    response = api.post(url(conversation, "/messages"), {"body": "One more thing"})
    assert response.status_code == 202
    assert response.json()["conversation"]["status"] == "pending"
    conversation.refresh_from_db()
    assert (conversation.status, conversation.resolved_at) == ("pending", None)
    statuses = [d.payload["data"]["status"] for d in WebhookDelivery.objects.order_by("pk")]
    assert statuses == ["resolved", "pending"]
    # The customer's answer lands in the same conversation.
    assert customer_writes(conversation.customer, "OK").conversation == conversation


def test_replying_to_a_resolved_conversation_the_customer_has_moved_on_from_is_a_409(
    api, conversation
):
    api.patch(url(conversation), {"status": "resolved"})
    newer = customer_writes(conversation.customer, "New question").conversation
    response = api.post(url(conversation, "/messages"), {"body": "About the old one"})
    assert response.status_code == 409
    assert response.json()["code"] == "conversation_superseded"
    assert str(newer.pk) in response.json()["message"]
    assert not Message.objects.filter(source="agent").exists()
