"""Shared by the planning tests: a segment with given members (its count set as a refresh would),
a template and a broadcast to link to."""

from campaigns.broadcasts.services.setup import broadcast_create
from campaigns.message_templates.services import template_create
from customers.models import Segment
from tests.factories import SegmentFactory, SegmentMembershipFactory

EMAIL = {"subject": "Hello", "html": "<p>Hi {{ customer.first_name }}</p>"}


def segment_of(customers, name=None) -> Segment:
    segment = SegmentFactory(**({"name": name} if name else {}))
    for customer in customers:
        SegmentMembershipFactory(segment=segment, customer=customer)
    Segment.objects.filter(pk=segment.pk).update(member_count=len(customers))
    segment.refresh_from_db()
    return segment


def template(name="Welcome"):
    return template_create(name=name, category="marketing", variants={"email": EMAIL})


def broadcast(name="Sale", segment=None):
    return broadcast_create(
        name=name, template=template(name), segment=segment or SegmentFactory(), channel="email"
    )
