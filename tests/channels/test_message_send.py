"""message_send and delivery through the sandbox: policy refusals, quiet hours, idempotency."""

from datetime import UTC, datetime, time, timedelta

import pytest

from channels.models import (
    DeliverySettings,
    Message,
    MessageStatus,
    MessageStatusChange,
    SandboxMessage,
)
from channels.providers import get_provider
from channels.services.delivery import messages_deliver, messages_sweep
from channels.services.messages import message_send
from customers.models import ConsentStatus
from tests.factories import ChannelIdentityFactory

pytestmark = pytest.mark.django_db


def send(customer, channel="email", category="marketing", **kwargs):
    return message_send(
        customer=customer,
        channel=channel,
        category=category,
        source=kwargs.pop("source", "api"),
        subject=kwargs.pop("subject", "Hello"),
        body=kwargs.pop("body", "Hi there"),
        **kwargs,
    )


def test_a_marketing_email_to_an_opted_in_customer_goes_to_the_sandbox(
    reachable_customer, sandbox, eager_celery, django_capture_on_commit_callbacks
):
    customer = reachable_customer("email")
    with django_capture_on_commit_callbacks(execute=True):
        message = send(customer)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider == "sandbox"
    assert message.sent_at is not None
    copy = SandboxMessage.objects.get(message=message)
    assert (copy.address, copy.subject, copy.body) == (customer.email, "Hello", "Hi there")
    assert message.provider_message_id == f"sandbox-{copy.pk}"


@pytest.mark.parametrize(
    ("consent", "category", "reason"),
    [
        (None, "marketing", "consent: marketing on email needs opted_in (is unknown)"),
        (ConsentStatus.OPTED_OUT, "transactional", "consent: opted out of email"),
        (
            ConsentStatus.UNKNOWN,
            "marketing",
            "consent: marketing on email needs opted_in (is unknown)",
        ),
    ],
)
def test_a_send_without_consent_is_suppressed_with_the_reason(
    reachable_customer, sandbox, consent, category, reason
):
    customer = reachable_customer("email", consent=consent)
    message = send(customer, category=category)
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason == reason
    assert message.status_changes.get().status == MessageStatus.SUPPRESSED
    assert not SandboxMessage.objects.exists()


def test_a_transactional_email_needs_only_no_opt_out(reachable_customer, sandbox):
    customer = reachable_customer("email", consent=None)
    assert send(customer, category="transactional").status == MessageStatus.QUEUED


def test_a_customer_without_an_address_is_suppressed(reachable_customer, sandbox):
    customer = reachable_customer("email")
    message = send(customer, channel="telegram", category="transactional")
    assert (message.status, message.status_reason) == ("suppressed", "address: no telegram address")


def test_the_daily_frequency_cap_counts_marketing_on_every_channel(reachable_customer, sandbox):
    DeliverySettings.objects.create(marketing_per_day=2, marketing_per_week=0)
    customer = reachable_customer("email")
    from tests.factories import ChannelIdentityFactory, ConsentFactory

    ChannelIdentityFactory(customer=customer, channel="sms", address=customer.phone)
    ConsentFactory(customer=customer, channel="sms", status="opted_in")
    assert send(customer).status == "queued"
    assert send(customer, channel="sms").status == "queued"
    third = send(customer)
    assert (third.status, third.status_reason) == (
        "suppressed",
        "frequency cap: 2 marketing messages per day",
    )
    # Transactional messages are never capped.
    assert send(customer, category="transactional").status == "queued"


def test_marketing_inside_quiet_hours_waits_for_their_end_in_the_customers_zone(
    reachable_customer, sandbox
):
    DeliverySettings.objects.create(quiet_hours_start=time(21), quiet_hours_end=time(9))
    customer = reachable_customer("email", timezone="Asia/Vladivostok")  # UTC+10
    late_evening = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)  # 23:30 in Vladivostok
    message = send(customer, now=late_evening)
    assert message.status == MessageStatus.QUEUED
    assert message.send_after == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 09:00 next day there
    # Not sent before then, whoever asks; the sweeper releases it once due.
    assert messages_deliver([message.pk], now=late_evening + timedelta(hours=1)).sent == 0
    assert send(customer, category="transactional", now=late_evening).send_after is None


def test_an_idempotency_key_sends_once(reachable_customer, sandbox):
    customer = reachable_customer("email")
    first = send(customer, idempotency_key="order-42-confirmation")
    again = send(customer, idempotency_key="order-42-confirmation")
    assert first.pk == again.pk
    assert Message.objects.count() == 1


def test_delivering_the_same_chunk_twice_sends_each_message_once(reachable_customer, sandbox):
    customer = reachable_customer("email")
    message = send(customer, category="transactional")
    assert messages_deliver([message.pk]).sent == 1
    assert messages_deliver([message.pk]).sent == 0
    assert SandboxMessage.objects.count() == 1


def test_the_sweeper_sends_a_message_whose_enqueue_was_lost(
    reachable_customer, sandbox, eager_celery
):
    customer = reachable_customer("email")
    message = send(customer, category="transactional")  # on_commit never ran: "broker was down"
    assert messages_sweep() == 0  # too fresh: it may still be in the broker
    assert messages_sweep(now=message.updated_at + timedelta(minutes=2)) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_without_the_sandbox_an_unconfigured_provider_suppresses_the_send(
    reachable_customer, settings
):
    settings.MESSAGING_SANDBOX = False
    settings.TELEGRAM_BOT_TOKEN = ""
    customer = reachable_customer("email")
    from tests.factories import ChannelIdentityFactory

    ChannelIdentityFactory(customer=customer, channel="telegram", address="123456")
    message = send(customer, channel="telegram", category="transactional")
    messages_deliver([message.pk])
    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason == "telegram is not configured: set TELEGRAM_BOT_TOKEN"


def test_a_marketing_sms_carries_the_opt_out_line_in_the_customers_language(
    reachable_customer, sandbox
):
    customer = reachable_customer("sms", locale="ru-RU")
    message = send(customer, channel="sms", body="Скидка 20 % до воскресенья")
    assert message.body.endswith("Отписаться: СТОП в ответ")
    assert message.parts == 1
    receipt = send(customer, channel="sms", category="transactional", body="Заказ собран")
    assert receipt.body == "Заказ собран"


def test_links_become_signed_click_links_when_the_message_is_stored(reachable_customer, sandbox):
    customer = reachable_customer("email")
    message = send(customer, body="See https://shop.example/sale")
    assert "https://shop.example/sale" not in message.body
    assert "/t/c/" in message.body
    untracked = send(
        customer, category="transactional", body="https://shop.example/x", payload={"track": False}
    )
    assert untracked.body == "https://shop.example/x"


def test_kaskads_own_confirmation_reaches_an_opted_out_customer(reachable_customer, sandbox):
    customer = reachable_customer("sms", consent=ConsentStatus.OPTED_OUT)
    confirmation = send(customer, channel="sms", category="transactional", source="system")
    assert confirmation.status == MessageStatus.QUEUED
    # Only Kaskad's own transactional answers: an API send still respects the opt-out.
    assert send(customer, channel="sms", category="transactional").status == "suppressed"


def test_a_consent_change_through_the_api_is_sent_to_subscribed_crms(api, reachable_customer):
    from channels.models import WebhookDelivery, WebhookSubscription
    from channels.services.webhooks_out import forget_webhook_subscriptions

    WebhookSubscription.objects.create(
        name="crm", url="http://127.0.0.1:9/hook", secret="s", event_types=["consent.changed"]
    )
    forget_webhook_subscriptions()
    customer = reachable_customer("email")
    response = api.put(
        f"/api/v1/customers/{customer.external_id}/consents/email",
        {"status": "opted_out"},
        format="json",
    )
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "consent.changed"
    assert delivery.payload["data"]["customer"] == customer.external_id
    assert delivery.payload["data"]["status"] == "opted_out"


def test_a_row_another_worker_sent_meanwhile_is_left_as_that_worker_wrote_it(
    reachable_customer, sandbox, monkeypatch
):
    ours, theirs = (send(reachable_customer("email"), category="transactional") for _ in range(2))
    provider = get_provider("sandbox")
    send_many = provider.send_many

    def slow_send_many(messages):
        # Our claim expired while the gateway was slow; another worker claimed and sent `theirs`.
        Message.objects.filter(pk=theirs.pk).update(
            status=MessageStatus.SENT, provider_message_id="other-worker"
        )
        return send_many(messages)

    monkeypatch.setattr(provider, "send_many", slow_send_many)

    messages_deliver([ours.pk, theirs.pk])

    theirs.refresh_from_db()
    assert theirs.provider_message_id == "other-worker"
    assert not theirs.status_changes.filter(source="send:sandbox").exists()
    ours.refresh_from_db()
    assert ours.status == MessageStatus.SENT
    assert ours.provider_message_id.startswith("sandbox-")
    assert list(ours.status_changes.filter(status="sent").values_list("source", flat=True)) == [
        "send:sandbox"
    ]


def test_a_batch_for_an_unconfigured_provider_is_suppressed_in_a_few_statements(
    reachable_customer, settings, django_assert_max_num_queries
):
    settings.MESSAGING_SANDBOX = False
    settings.TELEGRAM_BOT_TOKEN = ""
    messages = []
    for n in range(5):
        customer = reachable_customer("email")
        ChannelIdentityFactory(customer=customer, channel="telegram", address=f"12345{n}")
        messages.append(send(customer, channel="telegram", category="transactional"))

    # The claim (select, update) and the suppression (lock, update, status changes, webhook
    # subscriptions), with their savepoints: one message at a time would be 30 or more.
    with django_assert_max_num_queries(10):
        report = messages_deliver([m.pk for m in messages])

    assert report.suppressed == 5
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SUPPRESSED}
    assert MessageStatusChange.objects.filter(status="suppressed").count() == 5
