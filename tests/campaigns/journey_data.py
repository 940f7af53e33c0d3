"""Shared by the journey tests: templates, reachable customers, journeys published in one call,
and a hand-cranked clock for the engine."""

from datetime import timedelta

from django.utils import timezone

from campaigns.journeys.models import Enrollment
from campaigns.journeys.services.authoring import journey_create, journey_publish
from campaigns.journeys.services.tick import journeys_due_advance
from campaigns.message_templates.services import template_create
from customers.models import ConsentStatus
from tests.factories import ChannelIdentityFactory, ConsentFactory, CustomerFactory

EMAIL = {
    "subject": "{{ customer.first_name | default: 'Hi' }}, a gift",
    "html": "<p>Code {{ promo.code | default: 'none' }} "
    '<a href="https://shop.example/sale">Sale</a></p>',
}
SMS = {"body": "Code {{ promo.code | default: 'none' }}: https://shop.example/sale"}


def template(name="Gift", variants=None, category="marketing"):
    return template_create(
        name=name, category=category, variants=variants or {"email": EMAIL, "sms": SMS}
    )


def customer(channels=("email", "sms"), **fields):
    person = CustomerFactory(**fields)
    for channel in channels:
        address = person.email if channel == "email" else person.phone
        ChannelIdentityFactory(customer=person, channel=channel, address=address)
        ConsentFactory(customer=person, channel=channel, status=ConsentStatus.OPTED_IN)
    return person


def publish(steps, *, trigger=None, start=None, name="Journey", **definition):
    journey = journey_create(
        name=name,
        definition={
            "trigger": trigger or {"kind": "api"},
            "start": start or steps[0]["id"],
            "steps": steps,
            **definition,
        },
    )
    journey_publish(journey=journey)
    journey.refresh_from_db()
    return journey


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def tick_at(moment) -> int:
    return journeys_due_advance(now=moment)


def run_of(journey, person) -> Enrollment:
    return Enrollment.objects.filter(journey=journey, customer=person).order_by("-run").first()
