"""inbound_receive: who wrote, storing each message once, STOP / START, conversations, webhooks."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import (
    Conversation,
    InboundMessage,
    Message,
    MessageStatus,
    SandboxMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from channels.services.inbound import inbound_receive
from channels.services.webhooks_out import forget_webhook_subscriptions
from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    ConsentStatus,
    Customer,
    SegmentMembership,
)
from customers.timeline import customer_timeline
from tests.factories import ChannelIdentityFactory, CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_hook(db):
    subscription = WebhookSubscription.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret="s3cret"
    )
    forget_webhook_subscriptions()
    return subscription


_ids = iter(range(1, 10_000))


def receive(body="Hello", address="+79161234567", channel="sms", provider="exolve", **kwargs):
    kwargs.setdefault("provider_message_id", f"in-{next(_ids)}")
    return inbound_receive(
        channel=channel,
        provider=provider,
        address=address,
        body=body,
        payload=kwargs.pop("payload", {"raw": body}),
        **kwargs,
    )


# --- Who wrote ----------------------------------------------------------------------------------
def test_a_message_from_an_unknown_number_creates_a_customer_with_that_identity():
    inbound = receive("Здравствуйте", address="8 (916) 123-45-67")
    customer = inbound.customer
    assert customer.external_id == "sms:+79161234567"
    assert customer.phone == "+79161234567"
    assert ChannelIdentity.objects.filter(
        customer=customer, channel="sms", address="+79161234567"
    ).exists()
    assert not Consent.objects.filter(customer=customer).exists()  # consent stays unknown
    assert (inbound.address, inbound.body, inbound.payload) == (
        "+79161234567",
        "Здравствуйте",
        {"raw": "Здравствуйте"},
    )


def test_a_number_bound_to_a_customer_meanwhile_files_the_message_under_that_customer(
    monkeypatch,
):
    from channels.services import inbound as inbound_module

    crm_customer = CustomerFactory(external_id="crm-501")
    bind = inbound_module.identity_bind

    def crm_sync_first(**kwargs):
        # A CRM sync binds the number between the lookup and our insert.
        ChannelIdentityFactory(customer=crm_customer, channel="sms", address="+79161234567")
        return bind(**kwargs)

    monkeypatch.setattr(inbound_module, "identity_bind", crm_sync_first)

    inbound = receive("Здравствуйте", address="+79161234567")

    assert inbound.customer == crm_customer
    identity = ChannelIdentity.objects.get(channel="sms", address="+79161234567")
    assert identity.customer == crm_customer
    assert not Customer.objects.filter(external_id="sms:+79161234567").exists()  # no placeholder


def test_a_new_sender_enters_the_segments_that_read_identities_and_profiles_at_once(
    eager_celery, django_capture_on_commit_callbacks
):
    on_sms = SegmentFactory(rules={"identity": "sms"})  # refreshed for "identities" only
    with_phone = SegmentFactory(rules={"field": "phone", "op": "is_set"})  # for "profile" only

    with django_capture_on_commit_callbacks(execute=True):
        customer = receive("Здравствуйте", address="+79161234567").customer

    for segment in (on_sms, with_phone):
        members = SegmentMembership.objects.filter(segment=segment)
        assert list(members.values_list("customer", flat=True)) == [customer.pk], segment.rules


def test_a_message_from_a_known_identity_is_filed_under_that_customer():
    identity = ChannelIdentityFactory(channel="telegram", address="123456789")
    inbound = receive("hi", channel="telegram", provider="telegram", address="123456789")
    assert inbound.customer == identity.customer
    assert Customer.objects.count() == 1


def test_a_whatsapp_message_from_a_profile_phone_finds_the_customer_and_adds_the_identity():
    customer = CustomerFactory(phone="+79161234567")
    inbound = receive("hi", channel="whatsapp", provider="whatsapp", address="+7 916 123 45 67")
    assert inbound.customer == customer
    assert ChannelIdentity.objects.filter(
        customer=customer, channel="whatsapp", address="+79161234567"
    ).exists()


def test_a_given_customer_skips_the_lookup():
    customer = CustomerFactory()
    inbound = receive(
        "hi", channel="telegram", provider="telegram", address="555", customer=customer
    )
    assert inbound.customer == customer


def test_a_sender_that_is_not_a_phone_number_is_kept_as_the_gateway_gave_it():
    inbound = receive("hi", address=" MEGAFON ")
    assert inbound.address == "MEGAFON"
    assert inbound.customer.external_id == "sms:MEGAFON"


# --- Once only ----------------------------------------------------------------------------------
def test_a_repeated_callback_returns_none_and_stores_nothing_more(crm_hook):
    first = receive("Hello", provider_message_id="dup-1")
    deliveries = WebhookDelivery.objects.count()
    assert receive("Hello", provider_message_id="dup-1") is None
    assert InboundMessage.objects.get() == first
    assert Conversation.objects.count() == 1
    assert WebhookDelivery.objects.count() == deliveries


def test_the_same_id_from_another_provider_is_another_message():
    receive("a", provider="exolve", provider_message_id="42")
    assert receive("b", provider="twilio", provider_message_id="42") is not None
    assert InboundMessage.objects.count() == 2


# --- STOP / START -------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["STOP", " stop ", "Стоп", "UNSUBSCRIBE", "отписаться", "STOP!"])
def test_a_stop_keyword_opts_out_of_that_channel_and_logs_the_change(body, reachable_customer):
    customer = reachable_customer("sms")
    inbound = receive(body, address=customer.phone)
    assert Consent.objects.get(customer=customer, channel="sms").status == ConsentStatus.OPTED_OUT
    change = ConsentChange.objects.get(customer=customer, status=ConsentStatus.OPTED_OUT)
    assert (change.channel, change.previous_status, change.source) == (
        "sms",
        ConsentStatus.OPTED_IN,
        "keyword:exolve",
    )
    assert inbound.conversation is None  # a keyword is not a conversation
    assert not Conversation.objects.exists()


def test_the_stop_confirmation_goes_out_although_the_customer_is_now_opted_out(
    reachable_customer, sandbox, eager_celery, django_capture_on_commit_callbacks
):
    customer = reachable_customer("sms", locale="en-GB")
    with django_capture_on_commit_callbacks(execute=True):
        inbound = receive("STOP", address=customer.phone)
    confirmation = Message.objects.get(customer=customer)
    assert (confirmation.category, confirmation.source, confirmation.source_ref) == (
        "transactional",
        "system",
        "keyword:exolve",
    )
    assert confirmation.body.startswith("You have unsubscribed")
    assert confirmation.idempotency_key == f"consent_confirmation:inbound:{inbound.pk}"
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT
    assert SandboxMessage.objects.get().address == customer.phone


@pytest.mark.parametrize(
    ("locale", "body", "expected"),
    [
        ("ru-RU", "STOP", "Вы отписались"),
        ("en", "СТОП", "You have unsubscribed"),
        ("", "СТОП", "Вы отписались"),  # no locale: the language the customer wrote in
        ("", "stop", "You have unsubscribed"),
    ],
)
def test_the_confirmation_is_in_the_customers_language(reachable_customer, locale, body, expected):
    customer = reachable_customer("sms", locale=locale)
    receive(body, address=customer.phone)
    assert Message.objects.get(customer=customer).body.startswith(expected)


@pytest.mark.parametrize("body", ["START", "старт", "Subscribe"])
def test_a_start_keyword_opts_back_in_and_confirms(body, reachable_customer):
    customer = reachable_customer("sms", consent=ConsentStatus.OPTED_OUT, locale="ru")
    receive(body, address=customer.phone)
    assert Consent.objects.get(customer=customer, channel="sms").status == ConsentStatus.OPTED_IN
    assert ConsentChange.objects.get(customer=customer).source == "keyword:exolve"
    confirmation = Message.objects.get(customer=customer)
    assert confirmation.body.startswith("Вы снова подписаны")
    assert confirmation.status == MessageStatus.QUEUED


def test_a_whatsapp_start_is_confirmed_inside_the_24_hour_window(reachable_customer):
    customer = reachable_customer("whatsapp", consent=None, locale="en")
    receive("START", channel="whatsapp", provider="whatsapp", address=customer.phone)
    assert Message.objects.get(customer=customer).status == MessageStatus.QUEUED


def test_stop_inside_a_sentence_is_an_ordinary_message(reachable_customer):
    customer = reachable_customer("sms")
    inbound = receive("please stop the delivery", address=customer.phone)
    assert Consent.objects.get(customer=customer, channel="sms").status == ConsentStatus.OPTED_IN
    assert inbound.conversation is not None
    assert not Message.objects.exists()


# --- Conversations ------------------------------------------------------------------------------
def test_the_first_message_opens_a_conversation_and_the_next_extends_it():
    at = timezone.now() - timedelta(minutes=5)
    first = receive("Hello", received_at=at)
    second = receive("Anyone there?", received_at=at + timedelta(minutes=1))
    conversation = Conversation.objects.get()
    assert first.conversation == second.conversation == conversation
    assert (conversation.channel, conversation.status) == ("sms", Conversation.Status.OPEN)
    assert conversation.opened_at == at
    assert conversation.last_message_at == at + timedelta(minutes=1)


def test_a_message_to_a_pending_conversation_opens_it_again():
    conversation = receive("Hello").conversation
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.PENDING)
    assert receive("Thanks, one more thing").conversation == conversation
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


def test_a_message_after_the_conversation_was_resolved_opens_a_new_one():
    old = receive("Hello").conversation
    Conversation.objects.filter(pk=old.pk).update(status=Conversation.Status.RESOLVED)
    new = receive("Hello again").conversation
    assert new != old
    assert new.status == Conversation.Status.OPEN
    old.refresh_from_db()
    assert old.status == Conversation.Status.RESOLVED


def test_conversations_are_per_channel():
    customer = CustomerFactory(phone="+79161234567")
    sms = receive("hi", address=customer.phone).conversation
    whatsapp = receive("hi", channel="whatsapp", provider="whatsapp", address=customer.phone)
    assert whatsapp.conversation != sms
    assert {sms.customer, whatsapp.customer} == {customer}


# --- Webhooks and the timeline ------------------------------------------------------------------
def test_an_inbound_message_emits_message_inbound_and_the_opening_emits_conversation_updated(
    crm_hook,
):
    inbound = receive("Hello")
    events = list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert events == ["conversation.updated", "message.inbound"]
    payload = WebhookDelivery.objects.get(event_type="message.inbound").payload
    assert payload["type"] == "message.inbound"
    assert payload["data"] == {
        "id": inbound.pk,
        "customer": "sms:+79161234567",
        "channel": "sms",
        "provider": "exolve",
        "address": "+79161234567",
        "body": "Hello",
        "received_at": inbound.received_at.isoformat(),
        "conversation_id": inbound.conversation_id,
        "keyword": None,
    }
    conversation = WebhookDelivery.objects.get(event_type="conversation.updated").payload["data"]
    assert (conversation["id"], conversation["status"]) == (inbound.conversation_id, "open")

    receive("Still there?")  # extends the open conversation: no conversation event
    assert WebhookDelivery.objects.filter(event_type="conversation.updated").count() == 1
    assert WebhookDelivery.objects.filter(event_type="message.inbound").count() == 2


def test_a_stop_keyword_is_reported_to_the_crm_as_an_inbound_message(crm_hook, reachable_customer):
    customer = reachable_customer("sms")
    receive("STOP", address=customer.phone)
    payload = WebhookDelivery.objects.get(event_type="message.inbound").payload
    assert (payload["data"]["keyword"], payload["data"]["conversation_id"]) == ("stop", None)


def test_inbound_messages_appear_on_the_customer_timeline():
    inbound = receive("Where is my order?")
    entries = customer_timeline(inbound.customer_id, kinds=["inbound_message"]).entries
    assert [(e.kind, e.id, e.data["body"]) for e in entries] == [
        ("inbound_message", inbound.pk, "Where is my order?")
    ]


# --- Concurrency (PostgreSQL: SQLite serialises every write anyway) -----------------------------
def _at_once(*calls):
    """Run the calls in threads released together; return their results in order.

    An exception in a thread is raised here, so a race that crashes cannot pass for a dedupe."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index, call):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results[index] = call()
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_callback_delivered_twice_at_once_is_stored_once():
    results = _at_once(*[lambda: receive("Hi", provider_message_id="race-1")] * 2)
    assert sorted(r is None for r in results) == [False, True]
    assert InboundMessage.objects.count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_messages_from_one_customer_at_once_share_one_conversation(reachable_customer):
    customer = reachable_customer("sms")
    _at_once(
        lambda: receive("one", address=customer.phone),
        lambda: receive("two", address=customer.phone),
    )
    assert InboundMessage.objects.count() == 2
    assert Conversation.objects.count() == 1
