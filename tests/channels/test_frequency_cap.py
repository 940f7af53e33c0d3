"""The marketing frequency cap (channels/services/policy.py: frequency_refusal) through
message_send, with the real database.

"Per day" is the 24 hours before the send and "per 7 days" the 168 hours before it, counted by
when messages were queued, on every channel together; a day does not restart at midnight in any
time zone. What counts is marketing that reached, or is on its way to, the customer.
"""

from datetime import UTC, datetime, time, timedelta

import pytest

from channels.models import DeliverySettings, MessageStatus
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.status import message_status_apply
from customers.models import ConsentStatus
from tests.factories import ChannelIdentityFactory, ConsentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAILY_CAP_2 = "frequency cap: 2 marketing messages per day"


def caps(per_day: int, per_week: int) -> None:
    DeliverySettings.objects.create(marketing_per_day=per_day, marketing_per_week=per_week)


def send(customer, channel="email", *, at=NOW, category="marketing", source="campaign"):
    return message_send(
        customer=customer,
        channel=channel,
        category=category,
        source=source,
        subject="Spring sale",
        body="20% off until Sunday",
        now=at,
    )


def refusal(message) -> tuple[str, str]:
    return message.status, message.status_reason


@pytest.fixture
def customer(reachable_customer):
    """Opted in to marketing by email and by SMS."""
    customer = reachable_customer("email")
    ChannelIdentityFactory(customer=customer, channel="sms", address=customer.phone)
    ConsentFactory(customer=customer, channel="sms", status=ConsentStatus.OPTED_IN)
    return customer


def test_the_daily_cap_counts_email_and_sms_sent_in_the_last_24_hours(customer):
    caps(per_day=2, per_week=0)
    assert send(customer, "email", at=NOW - timedelta(hours=23)).status == "queued"
    assert send(customer, "sms", at=NOW - timedelta(hours=1)).status == "queued"
    assert refusal(send(customer, "sms")) == ("suppressed", DAILY_CAP_2)
    assert refusal(send(customer, "email")) == ("suppressed", DAILY_CAP_2)
    # Once the email is more than 24 hours old, one more may go; then the cap is full again.
    later = NOW + timedelta(hours=1, seconds=1)
    assert send(customer, "email", at=later).status == "queued"
    assert refusal(send(customer, "sms", at=later)) == ("suppressed", DAILY_CAP_2)


def test_a_day_does_not_restart_at_midnight_in_the_customers_time_zone(reachable_customer):
    caps(per_day=1, per_week=0)
    customer = reachable_customer("email", timezone="Asia/Vladivostok")  # UTC+10
    evening = datetime(2026, 3, 10, 13, 50, tzinfo=UTC)  # 23:50 in Vladivostok
    assert send(customer, at=evening).status == "queued"
    just_after_midnight = evening + timedelta(minutes=20)  # 00:10 the next day there
    assert refusal(send(customer, at=just_after_midnight)) == (
        "suppressed",
        "frequency cap: 1 marketing messages per day",
    )


def test_the_weekly_cap_counts_seven_days_on_every_channel(customer):
    caps(per_day=0, per_week=3)
    assert send(customer, "email", at=NOW - timedelta(days=6, hours=23)).status == "queued"
    assert send(customer, "sms", at=NOW - timedelta(days=3)).status == "queued"
    assert send(customer, "email", at=NOW - timedelta(hours=1)).status == "queued"
    assert refusal(send(customer, "sms")) == (
        "suppressed",
        "frequency cap: 3 marketing messages per 7 days",
    )
    # The first one leaves the week an hour later.
    assert send(customer, "sms", at=NOW + timedelta(hours=1, seconds=1)).status == "queued"


def test_messages_older_than_the_window_do_not_count(customer):
    caps(per_day=2, per_week=4)
    for _ in range(5):
        send(customer, "email", at=NOW - timedelta(days=8))
    for _ in range(2):
        send(customer, "sms", at=NOW - timedelta(hours=25))
    # Eight days ago is outside the week; 25 hours ago is outside the day but inside the week.
    assert send(customer, "email").status == "queued"
    assert send(customer, "sms").status == "queued"
    assert refusal(send(customer, "email")) == (
        "suppressed",
        "frequency cap: 4 marketing messages per 7 days",
    )


def test_with_both_caps_at_zero_nothing_is_capped(customer):
    caps(per_day=0, per_week=0)
    statuses = {send(customer, channel).status for channel in ["email", "sms"] * 10}
    assert statuses == {"queued"}


def test_refused_sends_do_not_use_up_the_cap(reachable_customer):
    caps(per_day=1, per_week=0)
    customer = reachable_customer("email")
    ChannelIdentityFactory(customer=customer, channel="sms", address=customer.phone)
    no_sms_consent = send(customer, "sms")
    assert no_sms_consent.status_reason == "consent: marketing on sms needs opted_in (is unknown)"
    assert send(customer, "email").status == "queued"
    for _ in range(3):
        assert send(customer, "email").status == "suppressed"
    # A day later only the one that went out had counted.
    assert send(customer, "email", at=NOW + timedelta(days=1, seconds=1)).status == "queued"


@pytest.mark.parametrize(
    ("outcome", "counts"),
    [
        (MessageStatus.QUEUED, True),
        (MessageStatus.SENT, True),
        (MessageStatus.DELIVERED, True),
        (MessageStatus.OPENED, True),
        (MessageStatus.CLICKED, True),
        (MessageStatus.FAILED, False),
        (MessageStatus.BOUNCED, False),
    ],
)
def test_a_message_counts_if_it_reached_or_will_reach_the_customer(
    customer, sandbox, outcome, counts
):
    caps(per_day=1, per_week=0)
    email = send(customer, "email", at=NOW - timedelta(hours=2))
    if outcome != MessageStatus.QUEUED:
        assert messages_deliver([email.pk], now=NOW - timedelta(hours=2)).sent == 1
    if outcome not in (MessageStatus.QUEUED, MessageStatus.SENT):
        message_status_apply(message_id=email.pk, status=outcome, source="test")
    email.refresh_from_db()
    assert email.status == outcome
    # The cascade's next step, an SMS an hour later.
    fallback = send(customer, "sms", at=NOW - timedelta(hours=1))
    if counts:
        assert refusal(fallback) == ("suppressed", "frequency cap: 1 marketing messages per day")
    else:
        assert fallback.status == "queued"


def test_marketing_held_for_the_end_of_quiet_hours_counts(reachable_customer):
    caps(per_day=2, per_week=0)
    DeliverySettings.objects.update(quiet_hours_start=time(21), quiet_hours_end=time(9))
    customer = reachable_customer("email", timezone="UTC")
    night = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    held = [send(customer, at=night) for _ in range(2)]
    assert {(m.status, m.send_after) for m in held} == {
        ("queued", datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    }
    assert refusal(send(customer, at=night)) == ("suppressed", DAILY_CAP_2)


def test_transactional_and_kaskads_own_messages_pass_a_full_cap_and_do_not_fill_it(customer):
    caps(per_day=1, per_week=1)
    for _ in range(3):
        assert send(customer, "email", category="transactional", source="api").status == "queued"
    assert send(customer, "sms", category="transactional", source="system").status == "queued"
    assert send(customer, "email").status == "queued"  # the one marketing message allowed
    assert send(customer, "sms").status == "suppressed"
    assert send(customer, "email", category="transactional", source="api").status == "queued"
    assert send(customer, "email", category="transactional", source="agent").status == "queued"
    assert send(customer, "sms", category="transactional", source="system").status == "queued"


@pytest.mark.parametrize("source", ["api", "campaign", "journey", "agent", "auto_reply"])
def test_marketing_is_capped_whoever_sends_it(customer, source):
    caps(per_day=1, per_week=0)
    assert send(customer, "email", source="campaign").status == "queued"
    assert refusal(send(customer, "sms", source=source)) == (
        "suppressed",
        "frequency cap: 1 marketing messages per day",
    )


def test_each_customer_has_a_cap_of_their_own(customer, reachable_customer):
    caps(per_day=1, per_week=0)
    neighbour = reachable_customer("email")
    assert send(neighbour).status == "queued"
    assert send(customer).status == "queued"
    assert send(neighbour).status == "suppressed"
