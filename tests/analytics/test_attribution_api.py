"""Attribution's API: the grouped report, one order's touches, the holdout uplift, bad input."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.attribution.services import attribution_pending_add, attribution_refresh
from campaigns.broadcasts.models import BroadcastStats
from campaigns.broadcasts.services.setup import broadcast_create
from campaigns.journeys.models import Enrollment, Journey, JourneyVersion, StepStat
from campaigns.message_templates.services import template_create
from channels.models import Message
from customers.models import Customer
from tests.factories import CustomerFactory, OrderFactory, SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

PLACED = timezone.now().replace(microsecond=0) - timedelta(days=1)


def touch(customer, channel, ref, hours, source="campaign") -> Message:
    return Message.objects.create(
        customer=customer,
        channel=channel,
        category="marketing",
        source=source,
        source_ref=ref,
        status="clicked",
        queued_at=PLACED - timedelta(hours=hours + 1),
        clicked_at=PLACED - timedelta(hours=hours),
    )


@pytest.fixture
def two_orders():
    """Ann's order (100) touched by broadcast 5 by email then journey 9's SMS step; Bob's order
    (40) touched by broadcast 5 only. Bob is in the segment."""
    ann, bob = CustomerFactory(external_id="ann"), CustomerFactory(external_id="bob")
    first = OrderFactory(customer=ann, placed_at=PLACED, total=Decimal("100.00"), external_id="o-a")
    second = OrderFactory(customer=bob, placed_at=PLACED, total=Decimal("40.00"), external_id="o-b")
    touch(ann, "email", "broadcast:5:A", 20)
    touch(ann, "sms", "journey:9:77:nudge", 2, source="journey")
    touch(bob, "email", "broadcast:5:B", 3)
    attribution_pending_add([first.pk, second.pk])
    attribution_refresh()
    segment = SegmentFactory()
    SegmentMembershipFactory(segment=segment, customer=bob)
    return segment


def test_the_report_groups_last_touch_revenue_by_broadcast(read_api, two_orders):
    body = read_api.get("/api/v1/attribution", {"group_by": "broadcast"}).json()
    assert body["model"] == "last_touch"
    # Ann's order went to the journey's SMS (the last touch), Bob's to the broadcast.
    assert [(r["key"], r["conversions"], r["revenue"]) for r in body["rows"]] == [
        ("5", 1.0, "40.00")
    ]
    assert body["totals"] == {"conversions": 2.0, "revenue": "140.00", "orders": 2}


def test_linear_shares_ann_s_order_between_broadcast_and_journey_step(read_api, two_orders):
    body = read_api.get("/api/v1/attribution", {"model": "linear", "group_by": "step"}).json()
    assert [(r["key"], r["journey_id"], r["step"], r["revenue"]) for r in body["rows"]] == [
        ("9:nudge", 9, "nudge", "50.00")
    ]
    body = read_api.get("/api/v1/attribution", {"model": "linear", "group_by": "broadcast"}).json()
    assert [(r["conversions"], r["revenue"], r["orders"]) for r in body["rows"]] == [
        (1.5, "90.00", 2)
    ]


def test_the_segment_and_channel_filters_narrow_the_report(read_api, two_orders):
    by_segment = read_api.get(
        "/api/v1/attribution", {"group_by": "channel", "segment": two_orders.pk}
    ).json()
    assert [(r["key"], r["revenue"]) for r in by_segment["rows"]] == [("email", "40.00")]
    sms = read_api.get("/api/v1/attribution", {"group_by": "channel", "channel": "sms"}).json()
    assert [(r["key"], r["label"], r["revenue"]) for r in sms["rows"]] == [("sms", "SMS", "100.00")]


def test_a_period_without_the_orders_is_empty(read_api, two_orders):
    day = (PLACED - timedelta(days=10)).date().isoformat()
    body = read_api.get("/api/v1/attribution", {"from": day, "to": day}).json()
    assert body["rows"] == [] and body["totals"]["orders"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "time_decay"}, "model"),
        ({"group_by": "customer"}, "group_by"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"channel": "fax"}, "channel"),
        ({"segment": "999999"}, "segment"),
        ({"segment": "x"}, "segment"),
    ],
)
def test_bad_report_parameters_are_a_400_naming_the_field(read_api, params, field):
    response = read_api.get("/api/v1/attribution", params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_orders_touches_are_listed_per_model(read_api, two_orders):
    body = read_api.get("/api/v1/attribution/orders/o-a").json()
    assert body["customer_external_id"] == "ann" and body["total"] == "100.00"
    got = [(t["model"], t["channel"], t["weight"], t["revenue"]) for t in body["touches"]]
    assert got == [
        ("first_touch", "email", 1.0, "100.00"),
        ("last_touch", "sms", 1.0, "100.00"),
        ("linear", "email", 0.5, "50.00"),
        ("linear", "sms", 0.5, "50.00"),
    ]


def test_an_unknown_order_is_a_404(read_api):
    assert read_api.get("/api/v1/attribution/orders/nope").status_code == 404


def test_the_api_needs_a_key(client):
    assert client.get("/api/v1/attribution").status_code == 401


def test_broadcast_uplift_is_measured_against_its_holdout(read_api):
    template = template_create(name="T", category="marketing", variants={"sms": {"body": "Hi"}})
    broadcast = broadcast_create(
        name="Sale", template=template, segment=SegmentFactory(), channel="sms", holdout_percent=20
    )
    variant_a = broadcast.variants.get()
    variant_b = broadcast.variants.create(key="B")
    # Treated: A 600 (60 bought, 6000) + B 400 (50 bought, 4500) = 1000 customers, 110 bought,
    # 10500. Holdout: 200 customers, 10 bought, 800.
    BroadcastStats.objects.create(
        broadcast=broadcast, variant=variant_a, audience=600, converted=60, revenue=6000
    )
    BroadcastStats.objects.create(
        broadcast=broadcast, variant=variant_b, audience=400, converted=50, revenue=4500
    )
    BroadcastStats.objects.create(
        broadcast=broadcast, holdout=True, audience=200, converted=10, revenue=800
    )
    body = read_api.get("/api/v1/attribution/uplift", {"broadcast": broadcast.pk}).json()
    (u,) = body["uplift"]
    # Rates 110/1000 = 0.11 and 10/200 = 0.05: +6 points, 0.11 / 0.05 − 1 = +120 %.
    assert (u["conversion_rate"], u["holdout_conversion_rate"]) == (0.11, 0.05)
    assert u["uplift_points"] == 0.06 and u["uplift_relative"] == 1.2
    # Pooled 120/1200 = 0.1; se = √(0.1 · 0.9 · (1/1000 + 1/200)) = √0.00054 ≈ 0.023238;
    # z = 0.06 / se ≈ 2.5820; p = erfc(z / √2) ≈ 0.0098.
    z = 0.06 / math.sqrt(0.1 * 0.9 * (1 / 1000 + 1 / 200))
    assert u["z"] == pytest.approx(z, abs=1e-4) and u["z"] == pytest.approx(2.582, abs=1e-3)
    assert u["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), abs=1e-6)
    assert u["p_value"] == pytest.approx(0.0098, abs=1e-4) and u["significant"] is True
    # 0.06 × 1000 = 60 more orders; (10500/1000 − 800/200) × 1000 = (10.5 − 4) × 1000 = 6500.
    assert u["incremental_conversions"] == 60.0 and u["incremental_revenue"] == "6500.00"


def test_journey_uplift_compares_the_runs_held_out_at_a_split_with_those_sent_on(read_api):
    journey = Journey.objects.create(name="Win back")
    version = JourneyVersion.objects.create(journey=journey, number=1, definition={})
    StepStat.objects.create(version=version, step="split", key="passed:holdout", count=10)
    people = Customer.objects.bulk_create(
        [Customer(external_id=f"j-{i}", email=f"j{i}@example.com") for i in range(100)]
    )
    # 90 runs sent down arm "a" (18 converted, 100 each); 10 held out (1 converted, 50).
    for i, person in enumerate(people):
        held = i < 10
        converted = i in (0,) if held else 10 <= i < 28
        Enrollment.objects.create(
            journey=journey,
            version=version,
            customer=person,
            state="exited",
            context={"holdout": "split"} if held else {"arms": {"split": "a"}},
            converted_at=PLACED if converted else None,
            revenue=(Decimal(50) if held else Decimal(100)) if converted else None,
        )
    body = read_api.get("/api/v1/attribution/uplift", {"journey": journey.pk}).json()
    (u,) = body["uplift"]
    assert (u["step"], u["treated"], u["treated_converted"], u["holdout"]) == ("split", 90, 18, 10)
    # 18/90 = 0.2 against 1/10 = 0.1: +10 points, +100 %.
    assert (u["uplift_points"], u["uplift_relative"]) == (0.1, 1.0)
    # Pooled 19/100; se = √(0.19 · 0.81 · (1/90 + 1/10)) ≈ 0.13077; z ≈ 0.7647, p ≈ 0.444.
    z = 0.1 / math.sqrt(0.19 * 0.81 * (1 / 90 + 1 / 10))
    assert u["z"] == pytest.approx(z, abs=1e-4) and u["p_value"] == pytest.approx(0.4444, abs=1e-3)
    assert u["significant"] is False
    # (1800/90 − 50/10) × 90 = (20 − 5) × 90 = 1350.
    assert u["incremental_revenue"] == "1350.00"


def test_uplift_needs_exactly_one_of_broadcast_and_journey(read_api):
    for params, field in (
        ({}, "broadcast"),
        ({"broadcast": "1", "journey": "1"}, "broadcast"),
        ({"broadcast": "-3"}, "broadcast"),
        ({"journey": "424242"}, "journey"),
    ):
        response = read_api.get("/api/v1/attribution/uplift", params)
        assert response.status_code == 400, params
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_broadcast_without_a_holdout_has_no_uplift(read_api):
    template = template_create(name="T", category="marketing", variants={"sms": {"body": "Hi"}})
    broadcast = broadcast_create(
        name="No holdout", template=template, segment=SegmentFactory(), channel="sms"
    )
    body = read_api.get("/api/v1/attribution/uplift", {"broadcast": broadcast.pk}).json()
    assert body == {"kind": "broadcast", "id": broadcast.pk, "name": "No holdout", "uplift": []}


@pytest.mark.parametrize("name", ["model", "group_by", "channel", "segment"])
def test_an_empty_report_parameter_is_a_400_naming_it(read_api, name):
    response = read_api.get("/api/v1/attribution", {name: ""})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [name]
