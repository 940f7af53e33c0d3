"""Loads the demo data once, through the same batch services the API uses."""

import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from customers.api.schemas import CustomerIn, EventIn, OrderIn
from customers.demo.generator import demo_data_generate
from customers.demo.reference import (
    ATTRIBUTES,
    CHUNK_SIZE,
    DEFAULT_CUSTOMERS,
    DEMO_PREFIX,
    SEED,
    SOURCE,
)
from customers.models import (
    AttributeDefinition,
    ChannelIdentity,
    Consent,
    Customer,
    Event,
    Order,
    Segment,
)
from customers.services.customers import customer_upsert_batch
from customers.services.events import event_ingest_batch
from customers.services.orders import order_upsert_batch
from customers.services.rfm import rfm_compute
from customers.services.segments import segment_create, segments_refresh_all


# --- Loading ------------------------------------------------------------------------------------
@dataclass
class DemoLoadResult:
    loaded: bool
    customers: int = 0
    identities: int = 0
    consents: int = 0
    events: int = 0
    orders: int = 0
    seconds: float = 0.0


def demo_data_exists() -> bool:
    return Customer.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


def _chunks(items: list, size: int = CHUNK_SIZE) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def demo_data_load(*, customers: int = DEFAULT_CUSTOMERS, seed: int = SEED) -> DemoLoadResult:
    """Load demo data unless some is already there (customers whose external_id starts `demo-`).

    All in one transaction, so an interrupted load leaves nothing behind and is simply run again.
    """
    started = time.perf_counter()
    if demo_data_exists():
        return DemoLoadResult(loaded=False)
    anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    data = demo_data_generate(customers=customers, anchor=anchor, seed=seed)
    with transaction.atomic():
        # Attributes are staff-defined reference data with no service of their own.
        for key, label, type_, description in ATTRIBUTES:
            AttributeDefinition.objects.get_or_create(
                key=key, defaults={"label": label, "type": type_, "description": description}
            )
        for chunk in _chunks(data.customers):
            customer_upsert_batch(
                items=[CustomerIn.model_validate(c) for c in chunk], source=SOURCE
            )
        for chunk in _chunks(data.orders):
            order_upsert_batch(items=[OrderIn.model_validate(o) for o in chunk], source=SOURCE)
        for chunk in _chunks(data.events):
            event_ingest_batch(items=[EventIn.model_validate(e) for e in chunk], source=SOURCE)
        rfm_compute(as_of=anchor.date())
        for name, description, rules in DEMO_SEGMENTS:
            segment_create(
                name=name, kind=Segment.Kind.DYNAMIC, rules=rules, description=description
            )
        segments_refresh_all()
    demo = {"customer__external_id__startswith": DEMO_PREFIX}
    return DemoLoadResult(
        loaded=True,
        customers=Customer.objects.filter(external_id__startswith=DEMO_PREFIX).count(),
        identities=ChannelIdentity.objects.filter(**demo).count(),
        consents=Consent.objects.filter(**demo).count(),
        events=Event.objects.filter(**demo).count(),
        orders=Order.objects.filter(**demo).count(),
        seconds=time.perf_counter() - started,
    )


# Segments from the seeds' examples (docs/segments.md), over the demo's attributes and catalogue.
DEMO_SEGMENTS = [
    (
        "Gamers and streamers",
        "Bought a video card.",
        {"bought": {"category": "Electronics / Video cards"}},
    ),
    (
        "Champions not opening email",
        "RFM Champions with no email opened in 60 days: reach them on another channel.",
        {"all": [
            {"rfm": {"segment": "champions"}},
            {"event": {"name": "email_opened", "performed": False, "within_days": 60}},
        ]},
    ),
    (
        "Loyalty members without a recent order",
        "In the loyalty club, no order in the last 30 days.",
        {"all": [
            {"field": "attributes.loyalty_member", "op": "equals", "value": True},
            {"orders": {"count": {"equals": 0}, "within_days": 30}},
        ]},
    ),
    (
        "Parents who prefer Telegram",
        "Have children, prefer Telegram and can be reached there.",
        {"all": [
            {"field": "attributes.children", "op": "gte", "value": 1},
            {"field": "attributes.preferred_channel", "op": "equals", "value": "telegram"},
            {"reachable": "telegram"},
        ]},
    ),
    (
        "Birthday this week",
        "Birthday in the next 7 days.",
        {"field": "birth_date", "op": "in_next_days", "value": 7},
    ),
]  # fmt: skip
