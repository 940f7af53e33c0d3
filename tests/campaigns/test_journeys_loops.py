"""Loops through a wait for outcomes: what ended one visit does not end the next one."""

import pytest
from django.utils import timezone

from campaigns.journeys.models import EnrollmentState
from campaigns.journeys.services.signals import journey_events_signal
from campaigns.journeys.services.triggers import journey_enrol
from channels.models import Message
from tests.campaigns.journey_data import customer, publish, template
from tests.factories import EventFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]


def test_a_wait_visited_again_on_a_loop_waits_for_a_new_event():
    tpl = template()
    journey = publish(
        [
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "max_visits": 5,
                "outcomes": [{"name": "used", "kind": "event", "event": "used", "next": "thanks"}],
                "timeout_seconds": 86400,
                "timeout_next": None,
            },
            {
                "id": "thanks",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
                "next": "wait",
            },
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    used = EventFactory(customer=person, name="used", occurred_at=timezone.now())
    journey_events_signal(event_ids=[used.pk])
    run.refresh_from_db()
    assert run.state == EnrollmentState.WAITING and run.step == "wait"
    assert run.context["visits"]["wait"] == 2
    assert Message.objects.filter(customer=person).count() == 1
    again = EventFactory(customer=person, name="used", occurred_at=timezone.now())
    journey_events_signal(event_ids=[again.pk])
    run.refresh_from_db()
    assert run.context["visits"]["wait"] == 3
    assert Message.objects.filter(customer=person).count() == 2
