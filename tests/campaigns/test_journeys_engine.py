"""The journey engine on real rows: sends, waits, outcomes, branches, splits, goals and exits."""

import pytest

from campaigns.journeys.models import EnrollmentLog, EnrollmentState, StepStat
from campaigns.journeys.services.signals import (
    journey_message_signal,
    journey_orders_signal,
)
from campaigns.journeys.services.triggers import journey_enrol
from channels.models import Message, MessageStatus
from channels.services.status import message_status_apply
from tests.campaigns.journey_data import customer, later, publish, template, tick_at
from tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]


def _send(step_id, tpl, nxt=None, channel="email", on_unreachable="continue"):
    return {
        "id": step_id,
        "type": "send",
        "template_id": tpl.pk,
        "channel": channel,
        "on_unreachable": on_unreachable,
        "next": nxt,
    }


def test_a_run_sends_then_waits_and_an_open_moves_it_on_at_once():
    tpl = template()
    journey = publish(
        [
            _send("hello", tpl, "wait"),
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [
                    {"name": "opened", "kind": "message", "status": "opened", "next": "thanks"}
                ],
                "timeout_seconds": 3600,
                "timeout_next": "reminder",
            },
            _send("thanks", tpl),
            _send("reminder", tpl),
        ]
    )
    person = customer()
    result = journey_enrol(journey=journey, customer_id=person.pk)
    run = result.enrollment
    assert run.state == EnrollmentState.WAITING and run.step == "wait"
    message = Message.objects.get(customer=person)
    assert message.source == "journey" and message.idempotency_key == f"journey:{run.pk}:hello:1"

    message_status_apply(message_id=message.pk, status=MessageStatus.OPENED)
    journey_message_signal(message_id=message.pk, status="opened")

    run.refresh_from_db()
    assert run.state == EnrollmentState.COMPLETED and run.last_step == "thanks"
    assert Message.objects.filter(customer=person).count() == 2
    assert list(EnrollmentLog.objects.filter(enrollment=run).values_list("step", "outcome"))[
        :4
    ] == [("hello", "entered"), ("hello", "sent"), ("wait", "waiting"), ("wait", "outcome:opened")]


def test_a_wait_times_out_by_its_own_branch():
    tpl = template()
    journey = publish(
        [
            _send("hello", tpl, "wait"),
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [
                    {"name": "clicked", "kind": "message", "status": "clicked", "next": None}
                ],
                "timeout_seconds": 60,
                "timeout_next": "reminder",
            },
            _send("reminder", tpl, channel="sms"),
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    assert tick_at(later(30)) == 0
    assert tick_at(later(61)) == 1
    run.refresh_from_db()
    assert run.state == EnrollmentState.COMPLETED
    assert list(
        Message.objects.filter(customer=person).order_by("pk").values_list("channel", flat=True)
    ) == ["email", "sms"]
    stats = dict(StepStat.objects.filter(step="wait").values_list("key", "count"))
    assert stats == {"entered": 1, "passed:timeout": 1}


def test_an_order_during_a_wait_converts_the_run_with_its_revenue():
    tpl = template()
    journey = publish(
        [
            _send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 86400, "next": "again"},
            _send("again", tpl),
        ],
        goal={"kind": "order", "window_seconds": 7 * 86400},
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    order = OrderFactory(customer=person, total="120.50", placed_at=later(0))
    journey_orders_signal(order_ids=[order.pk])
    run.refresh_from_db()
    assert run.state == EnrollmentState.CONVERTED
    assert str(run.revenue) == "120.50" and run.last_step == "wait"
    assert tick_at(later(2 * 86400)) == 0
    assert Message.objects.filter(customer=person).count() == 1


def test_an_unreachable_customer_takes_the_unreachable_way():
    tpl = template()
    journey = publish(
        [
            _send("hello", tpl, "done", channel="sms", on_unreachable="exit"),
            {"id": "done", "type": "exit"},
        ]
    )
    person = customer(channels=("email",))
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    assert run.state == EnrollmentState.EXITED and run.exit_reason == "unreachable"
    assert Message.objects.get(customer=person).status == MessageStatus.SUPPRESSED


def test_advancing_a_run_again_never_sends_twice():
    from campaigns.journeys.models import Enrollment
    from campaigns.journeys.services.engine import enrollments_advance

    tpl = template()
    journey = publish(
        [
            _send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 60, "next": None},
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk, advance=False).enrollment
    snapshot = Enrollment.objects.get(pk=run.pk)
    enrollments_advance([Enrollment.objects.get(pk=run.pk)])
    # The same run, from before the first advance committed its step (a re-delivered task):
    enrollments_advance([snapshot])
    assert Message.objects.filter(customer=person).count() == 1
