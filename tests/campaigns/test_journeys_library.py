"""The ready-made journeys: each builds a definition that publishes, and runs for a customer."""

import pytest

from campaigns.journeys.definition import definition_parse
from campaigns.journeys.library import (
    LIBRARY,
    WINBACK_RULES,
    LibraryError,
    library_definition,
    library_journey_create,
)
from campaigns.journeys.models import EnrollmentState, JourneyStatus
from campaigns.journeys.services.authoring import journey_publish
from campaigns.journeys.services.checks import definition_problems
from campaigns.journeys.services.signals import (
    journey_events_signal,
    journey_message_signal,
    journey_orders_signal,
)
from campaigns.journeys.services.triggers import journey_enrol
from campaigns.loyalty.selectors import points_summary
from campaigns.promo.models import PromoPool
from campaigns.promo.services import promo_codes_generate, promo_pool_create
from channels.models import Message, MessageStatus
from channels.services.status import message_status_apply
from customers.models import ConsentStatus, Segment
from tests.campaigns.journey_data import customer, later, run_of, template, tick_at
from tests.factories import (
    ChannelIdentityFactory,
    ConsentFactory,
    EventFactory,
    OrderFactory,
    SegmentFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]

CARD = {"body": "Code {{ promo.code | default: 'none' }}", "url": "https://shop.example/sale"}


def _person():
    """Reachable by email, SMS and Telegram (a numeric chat id)."""
    person = customer(channels=("email", "sms"))
    ChannelIdentityFactory(customer=person, channel="telegram", address=str(700000 + person.pk))
    ConsentFactory(customer=person, channel="telegram", status=ConsentStatus.OPTED_IN)
    return person


@pytest.fixture
def picks():
    """Demo-like things: one template with every channel, a pool with codes, two segments."""
    from tests.campaigns.journey_data import EMAIL, SMS

    tpl = template(variants={"email": EMAIL, "sms": SMS, "telegram": CARD})
    pool = promo_pool_create(name="Autumn", kind=PromoPool.Kind.UNIQUE, prefix="AUT-")
    promo_codes_generate(pool, 20)
    segment = SegmentFactory(name="New customers", kind=Segment.Kind.STATIC)
    at_risk = SegmentFactory(name="At risk", kind=Segment.Kind.DYNAMIC, rules=WINBACK_RULES)
    values = {
        "pool": pool.pk,
        "email": tpl.pk,
        "sms": tpl.pk,
        "messenger": tpl.pk,
        "email_second": tpl.pk,
        "email_tips": tpl.pk,
        "email_promo": tpl.pk,
    }
    return {"values": values, "segment": segment, "at_risk": at_risk}


def _live(key, picks, segment=None):
    values = dict(picks["values"])
    if segment is not None:
        values["segment"] = segment.pk
    journey = library_journey_create(key=key, values=values)
    journey_publish(journey=journey)
    journey.refresh_from_db()
    return journey


def _messages(person):
    return list(
        Message.objects.filter(customer=person).order_by("pk").values_list("channel", flat=True)
    )


def _open(message):
    message_status_apply(message_id=message.pk, status=MessageStatus.OPENED)
    journey_message_signal(message_id=message.pk, status="opened")


@pytest.mark.parametrize("entry", LIBRARY, ids=lambda e: e.key)
def test_every_ready_made_journey_builds_a_definition_with_no_problems(entry, picks):
    values = {**picks["values"], "segment": picks["segment"].pk}
    definition = definition_parse(library_definition(entry, values))
    assert definition_problems(definition) == []
    assert str(entry.name) and str(entry.description) and entry.slots


def test_a_required_pick_left_empty_is_named():
    entry = LIBRARY[0]
    with pytest.raises(LibraryError) as error:
        library_definition(entry, {})
    assert error.value.field == "segment"


def test_a_journey_made_from_the_library_is_a_draft_serving_its_segment(picks):
    journey = library_journey_create(
        key="win_back", values={**picks["values"], "segment": picks["at_risk"].pk}
    )
    assert journey.status == JourneyStatus.DRAFT
    assert journey.template_key == "win_back" and journey.segment_id == picks["at_risk"].pk


def test_the_promo_cascade_falls_back_to_sms_and_converts_on_the_code(picks):
    journey = _live("promo_cascade", picks, picks["segment"])
    person = _person()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    code = run.context["promo_code"]
    assert code.startswith("AUT-") and _messages(person) == ["email"]
    tick_at(later(86400 + 60))
    assert _messages(person) == ["email", "sms"]
    assert code in Message.objects.filter(customer=person, channel="sms").get().body
    order = OrderFactory(customer=person, total="990.00", promo_code=code, placed_at=later(90000))
    journey_orders_signal(order_ids=[order.pk])
    run.refresh_from_db()
    assert run.state == EnrollmentState.CONVERTED and str(run.revenue) == "990.00"


def test_loyalty_awards_points_goes_to_telegram_when_unopened_and_awards_again_on_use(picks):
    journey = _live("loyalty_joined", picks)
    person = _person()
    EventFactory(customer=person, name="loyalty_joined", occurred_at=later(0))
    event = person.events.get(name="loyalty_joined")
    journey_events_signal(event_ids=[event.pk])
    run = run_of(journey, person)
    assert points_summary(person.pk).balance == 500 and _messages(person) == ["email"]
    tick_at(later(2 * 86400 + 60))
    assert _messages(person) == ["email", "telegram"]
    assert Message.objects.get(customer=person, channel="telegram").status != "suppressed"
    run.refresh_from_db()
    assert run.step == "use" and run.state == EnrollmentState.WAITING
    spent = EventFactory(customer=person, name="points_spent", occurred_at=later(2 * 86400 + 120))
    journey_events_signal(event_ids=[spent.pk])
    run.refresh_from_db()
    assert points_summary(person.pk).balance == 1000
    assert run.step == "opened" and _messages(person) == ["email", "telegram", "email"]
    # The second round waits for a new use: the first round's event does not count again.
    tick_at(later(4 * 86400 + 300))
    run.refresh_from_db()

    assert run.step == "use" and run.state == EnrollmentState.WAITING
    assert points_summary(person.pk).balance == 1000


def test_the_abandoned_cart_exits_when_that_cart_is_checked_out(picks):
    journey = _live("abandoned_cart", picks)
    person = _person()
    for cart in ("c1", "c2"):
        abandoned = EventFactory(
            customer=person,
            name="cart_abandoned",
            properties={"cart_id": cart},
            occurred_at=later(0),
        )
        journey_events_signal(event_ids=[abandoned.pk])
    runs = {r.entry_key: r for r in journey.enrollments.all()}
    assert set(runs) == {"c1", "c2"}
    done = EventFactory(
        customer=person,
        name="checkout_completed",
        properties={"cart_id": "c1"},
        occurred_at=later(60),
    )
    journey_events_signal(event_ids=[done.pk])
    tick_at(later(3600 + 60))
    first, second = (journey.enrollments.get(entry_key=k) for k in ("c1", "c2"))
    assert first.state == EnrollmentState.EXITED and first.last_step == "done"
    assert second.state == EnrollmentState.WAITING and second.step == "day"
    assert _messages(person) == ["email"]
    tick_at(later(3600 + 86400 + 120))
    second.refresh_from_db()
    assert _messages(person) == ["email", "sms"] and second.context["promo_code"]


def test_the_welcome_series_gives_a_first_order_code_to_a_customer_without_orders(picks):
    journey = _live("welcome_series", picks)
    assert journey.live_version.definition["trigger"]["event"] == "signed_up"
    person = _person()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    assert _messages(person) == ["email"]
    tick_at(later(2 * 86400 + 60))
    assert _messages(person) == ["email", "email"]
    tick_at(later(3 * 86400 + 120))
    run.refresh_from_db()
    assert run.context["results"]["ordered"] == "default" and run.context["promo_code"]
    assert run.step == "after" and len(_messages(person)) == 3
    _open(Message.objects.filter(customer=person).order_by("-pk").first())
    order = OrderFactory(customer=person, total="100.00", placed_at=later(3 * 86400 + 200))
    journey_orders_signal(order_ids=[order.pk])
    run.refresh_from_db()
    assert run.state == EnrollmentState.CONVERTED


def test_the_win_back_holds_out_about_a_tenth_and_cascades_email_then_sms(picks):
    journey = _live("win_back", picks, picks["at_risk"])
    people = [_person() for _ in range(40)]
    for person in people:
        journey_enrol(journey=journey, customer_id=person.pk)
    # Held-out runs wait at the split (so an order still counts) until the goal window closes.
    held = journey.enrollments.filter(step="holdout").count()
    assert 0 < held < 12
    one = journey.enrollments.filter(step="cascade").first()
    assert one.step == "cascade" and one.context["promo_code"]
    tick_at(later(2 * 86400 + 60))
    assert _messages(one.customer) == ["email", "sms"]
    tick_at(later(15 * 86400))
    assert journey.enrollments.filter(exit_reason="holdout").count() == held
