"""Auto-replies: keywords (Cyrillic too), patterns, business hours, priority, and no spam."""

from datetime import UTC, datetime, time, timedelta

import pytest

from channels.models import AutoReplyRule, Message, MessageStatus
from channels.services.autoreplies import auto_reply_for, is_out_of_hours
from channels.services.inbound import inbound_receive

pytestmark = pytest.mark.django_db

# Tuesday 2025-03-04 12:00 in Moscow (UTC+3), and the Saturday after.
TUESDAY_NOON = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)
WEEKDAYS = [0, 1, 2, 3, 4]


def rule(match="keyword", pattern="", reply="An answer", **fields):
    return AutoReplyRule.objects.create(
        name=fields.pop("name", f"{match} {pattern}"),
        match=match,
        pattern=pattern,
        reply=reply,
        **fields,
    )


def office_hours(**fields):
    return rule(
        match="out_of_hours",
        reply="We are closed; we answer from 9:00 on weekdays.",
        opens_at=time(9),
        closes_at=time(18),
        business_days=WEEKDAYS,
        timezone="Europe/Moscow",
        **fields,
    )


def answer(body, channel="sms", now=TUESDAY_NOON, conversation=None):
    return auto_reply_for(channel=channel, body=body, now=now, conversation=conversation)


# --- Matching -----------------------------------------------------------------------------------
def test_a_keyword_matches_as_a_whole_word_in_any_case_cyrillic_included():
    price = rule(pattern="цена, стоимость, price")
    assert answer("Какая ЦЕНА доставки?") == price
    assert answer("What's the Price?") == price
    assert answer("Нужна оценка") is None  # "цена" inside "оценка" is not the word
    assert answer("priceless") is None


def test_a_keyword_may_be_a_phrase():
    hours = rule(pattern="часы работы, opening hours")
    assert answer("Подскажите часы работы") == hours
    assert answer("What are your opening\n  hours?") == hours
    assert answer("opening soon, hours later") is None


def test_a_pattern_matches_case_insensitively():
    order = rule(match="pattern", pattern=r"заказ\w*\s*№?\s*\d+")
    assert answer("Где мой ЗАКАЗ № 12345?") == order
    assert answer("Где мой заказ?") is None


def test_an_invalid_pattern_is_skipped_and_the_next_rule_answers():
    rule(match="pattern", pattern="([unclosed", priority=1)
    fallback = rule(pattern="hello", priority=2)
    assert answer("hello") == fallback


def test_rules_run_in_priority_order_and_inactive_ones_never():
    rule(pattern="hello", priority=1, is_active=False)
    second = rule(pattern="hello", priority=20)
    rule(pattern="hello", priority=30)
    assert answer("hello") == second


def test_a_rule_for_one_channel_ignores_the_others_and_a_blank_channel_means_all():
    whatsapp_only = rule(pattern="hello", channel="whatsapp", priority=1)
    everywhere = rule(pattern="hello", priority=2)
    assert answer("hello", channel="whatsapp") == whatsapp_only
    assert answer("hello", channel="telegram") == everywhere


# --- Business hours -----------------------------------------------------------------------------
def test_out_of_hours_answers_at_the_weekend_and_at_night_but_not_in_office_hours():
    closed = office_hours()
    assert answer("anything", now=SATURDAY_NOON) == closed
    assert answer("anything", now=TUESDAY_NOON.replace(hour=17)) == closed  # 20:00 in Moscow
    assert answer("anything", now=TUESDAY_NOON) is None
    # 08:59 in Moscow is before opening; 09:00 is open (the rule's zone, not UTC).
    assert answer("x", now=datetime(2025, 3, 4, 5, 59, tzinfo=UTC)) == closed
    assert answer("x", now=datetime(2025, 3, 4, 6, 0, tzinfo=UTC)) is None


def test_business_hours_may_cross_midnight():
    night_shift = AutoReplyRule(
        match="out_of_hours",
        opens_at=time(20),
        closes_at=time(4),
        business_days=[4],  # opens Friday evening, until Saturday 04:00
        timezone="UTC",
    )
    friday_late = datetime(2025, 3, 7, 23, 0, tzinfo=UTC)
    assert not is_out_of_hours(night_shift, friday_late)
    assert not is_out_of_hours(night_shift, friday_late + timedelta(hours=4))  # Sat 03:00
    assert is_out_of_hours(night_shift, friday_late + timedelta(hours=5))  # Sat 04:00
    assert is_out_of_hours(night_shift, friday_late - timedelta(days=1))  # Thursday night


# --- Through inbound_receive --------------------------------------------------------------------
@pytest.fixture
def write(reachable_customer, django_capture_on_commit_callbacks):
    """write(body) → the customer's inbound message, with the after-commit auto-reply run."""
    customer = reachable_customer("sms")
    counter = iter(range(1, 1000))

    def send(body):
        with django_capture_on_commit_callbacks(execute=True):
            return inbound_receive(
                channel="sms",
                provider="exolve",
                address=customer.phone,
                body=body,
                provider_message_id=f"m{next(counter)}",
                payload={},
            )

    return send


def test_a_matching_message_gets_the_rules_reply_in_its_conversation(write):
    price = rule(pattern="цена", reply="Цены на сайте: example.com/prices")
    inbound = write("Какая цена?")
    reply = Message.objects.get()
    assert (reply.body, reply.category, reply.source, reply.source_ref) == (
        "Цены на сайте: example.com/prices",
        "transactional",
        "auto_reply",
        f"auto_reply:{price.pk}",
    )
    assert reply.conversation == inbound.conversation
    assert (reply.channel, reply.address, reply.status) == ("sms", inbound.address, "queued")


def test_a_message_no_rule_matches_gets_no_reply(write):
    rule(pattern="цена")
    write("Спасибо!")
    assert not Message.objects.exists()


def test_at_most_one_auto_reply_answers_a_message(write):
    rule(pattern="цена", priority=1)
    rule(match="pattern", pattern="цен", priority=2)
    write("цена")
    assert Message.objects.count() == 1


def test_the_out_of_hours_answer_goes_once_per_conversation_in_12_hours(write):
    always_closed = rule(match="out_of_hours", reply="We are closed.", business_days=[])
    first = write("Hello?")
    write("Anyone?")
    assert Message.objects.filter(source="auto_reply").count() == 1

    Message.objects.update(queued_at=first.received_at - timedelta(hours=12, minutes=1))
    write("Still nobody?")
    replies = Message.objects.filter(source_ref=f"auto_reply:{always_closed.pk}")
    assert replies.count() == 2
    assert {m.conversation_id for m in replies} == {first.conversation_id}


def test_after_the_out_of_hours_answer_a_keyword_rule_still_answers(write):
    rule(match="out_of_hours", reply="We are closed.", business_days=[], priority=1)
    rule(pattern="price", reply="Prices: example.com/prices", priority=2)
    write("Hello")
    write("What is the price?")
    assert list(Message.objects.order_by("pk").values_list("body", flat=True)) == [
        "We are closed.",
        "Prices: example.com/prices",
    ]


def test_a_keyword_message_like_stop_gets_no_auto_reply(write):
    rule(match="out_of_hours", reply="We are closed.", business_days=[])
    write("STOP")
    assert list(Message.objects.values_list("source", flat=True)) == ["system"]


def test_an_auto_reply_to_an_opted_out_customer_is_suppressed_with_the_reason(
    reachable_customer, django_capture_on_commit_callbacks
):
    customer = reachable_customer("sms", consent="opted_out")
    rule(pattern="hello")
    with django_capture_on_commit_callbacks(execute=True):
        inbound_receive(
            channel="sms",
            provider="exolve",
            address=customer.phone,
            body="hello",
            provider_message_id="x1",
            payload={},
        )
    reply = Message.objects.get()
    assert (reply.status, reply.status_reason) == (
        MessageStatus.SUPPRESSED,
        "consent: opted out of sms",
    )
