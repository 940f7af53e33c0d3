"""Journeys end to end with a real Celery worker on the `journeys` and `send` queues, a real SMTP
server (aiosmtpd) for email and a loopback HTTP server playing MTS Exolve for SMS.

The test process plays the outside world: beat (calling the tick every half second), the
customer (following the link in the SMS they received), the shop (posting orders and events).
Waits are a few seconds long, so everything runs in real time.
"""

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.utils import timezone

from campaigns.journeys.models import Enrollment, EnrollmentLog, EnrollmentState
from campaigns.journeys.services.authoring import (
    journey_draft_save,
    journey_publish,
)
from campaigns.journeys.services.tick import journeys_tick
from campaigns.journeys.services.triggers import journey_enrol
from campaigns.loyalty.models import PointsEntry
from campaigns.promo.models import PromoPool
from campaigns.promo.services import promo_codes_generate, promo_pool_create
from channels.models import DeliverySettings, Message
from channels.services.policy import forget_delivery_settings
from customers.api.schemas import EventIn, OrderIn
from customers.models import AttributeDefinition
from customers.services.events import event_ingest_batch
from customers.services.orders import order_upsert_batch
from tests.campaigns.journey_data import customer, publish, template
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker
from tests.channels.test_email import RecordingHandler, free_port
from tests.factories import AttributeDefinitionFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
BASE_URL = "https://kaskad.example"


@pytest.fixture
def world(tmp_path, settings, httpserver):
    """SMTP server, SMS gateway, broker; the worker's environment to reach them."""
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    smtp = RecordingHandler()
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    sms: list[dict] = []

    def gateway(request):
        from werkzeug import Response

        sms.append(request.get_json())
        return Response(f'{{"message_id": "exolve-{len(sms)}"}}', content_type="application/json")

    httpserver.expect_request("/messaging/v1/SendSMS", method="POST").respond_with_handler(gateway)
    settings.PUBLIC_BASE_URL = BASE_URL
    client, broker_env = broker_for_test(tmp_path)
    env = {
        "MESSAGING_SANDBOX": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DEFAULT_FROM_EMAIL": "shop@kaskad.example",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": httpserver.url_for("/").rstrip("/"),
        "EXOLVE_API_KEY": "key",
        "EXOLVE_SENDER": "Kaskad",
        "PUBLIC_BASE_URL": BASE_URL,
    }
    with app_publishing_to(client):
        yield {"smtp": smtp, "sms": sms, "broker": broker_env, "env": env}
    controller.stop()


def email_text(received: dict) -> str:
    body = received["message"].get_body(preferencelist=("html", "plain"))
    return body.get_content()


def wait_for(condition, timeout=40.0, tick=True):
    """Poll `condition`, calling the journeys tick as beat would (every half second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick:
            journeys_tick()
        time.sleep(0.5)
    return False


def worker(world, queues="journeys,send"):
    return celery_worker(world["broker"], queues=queues, extra_env=world["env"])


def state_of(enrollment):
    return Enrollment.objects.get(pk=enrollment.pk).state


def log_of(enrollment):
    return list(EnrollmentLog.objects.filter(enrollment=enrollment).values_list("step", "outcome"))


def promo_pool(valid_seconds=None):
    pool = promo_pool_create(
        name="Cascade",
        kind=PromoPool.Kind.UNIQUE,
        discount_description="-15%",
        valid_until=timezone.now() + timedelta(seconds=valid_seconds) if valid_seconds else None,
    )
    promo_codes_generate(pool, 5)
    return pool


def promo_cascade(pool, email_wait=3, sms_wait=30):
    tpl = template(name="Code")
    return publish(
        [
            {
                "id": "code",
                "type": "action",
                "action": "promo_issue",
                "pool_id": pool.pk,
                "next": "cascade",
            },
            {
                "id": "cascade",
                "type": "cascade",
                "channels": [
                    {
                        "channel": "email",
                        "template_id": tpl.pk,
                        "wait_seconds": email_wait,
                        "outcome": "opened",
                    },
                    {
                        "channel": "sms",
                        "template_id": tpl.pk,
                        "wait_seconds": sms_wait,
                        "outcome": "clicked",
                    },
                ],
                "rounds": 1,
                "stop_on_promo": True,
                "next_on_outcome": None,
                "next": None,
            },
        ],
        name="Promo cascade",
        goal={"kind": "order", "window_seconds": 7 * 86400},
    )


def test_the_promo_cascade_falls_back_to_sms_and_stops_when_the_customer_clicks(world, client):
    journey = promo_cascade(promo_pool())
    person = customer()
    with worker(world):
        run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
        code = run.context["promo_code"]
        assert wait_for(lambda: len(world["smtp"].received) == 1, tick=False)
        assert code in email_text(world["smtp"].received[0])
        # The email is not opened: after its 3 s the tick moves the cascade on to SMS.
        assert wait_for(lambda: len(world["sms"]) == 1)
        text = world["sms"][0]["text"]
        assert code in text
        link = re.search(r"https://kaskad\.example/\S+", text).group(0)
        # The customer follows the SMS link: the click ends the cascade at once.
        assert client.get(urlparse(link).path).status_code == 302
        assert wait_for(lambda: state_of(run) == EnrollmentState.COMPLETED, tick=False)
    assert ("cascade", "cascade:outcome") in log_of(run)
    assert Message.objects.filter(customer=person).count() == 2


def test_the_promo_cascade_stops_when_the_code_expires_first(world):
    journey = promo_cascade(promo_pool(valid_seconds=4), email_wait=30)
    person = customer()
    with worker(world):
        run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
        assert wait_for(lambda: state_of(run) == EnrollmentState.COMPLETED)
    assert ("cascade", "cascade:expired") in log_of(run)
    assert world["sms"] == []  # the email's 30 s wait never ran out: the code expired first
    assert Message.objects.filter(customer=person).count() == 1


def test_the_loyalty_scenario_runs_through_to_a_new_award(world):
    tpl = template(name="Points")
    journey = publish(
        [
            {
                "id": "award",
                "type": "action",
                "action": "points_award",
                "points": 100,
                "next": "tell",
                "max_visits": 3,
            },
            {
                "id": "tell",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
                "next": "wait",
            },
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [
                    {"name": "used", "kind": "event", "event": "points_spent", "next": "award"}
                ],
                "timeout_seconds": 60,
                "timeout_next": None,
            },
        ],
        trigger={"kind": "event", "event": "loyalty_joined"},
        name="Loyalty",
    )
    person = customer()

    def event(name, n):
        return EventIn(
            event_id=f"{name}-{n}",
            customer_external_id=person.external_id,
            name=name,
            properties={},
            occurred_at=timezone.now(),
        )

    with worker(world):
        event_ingest_batch(items=[event("loyalty_joined", 1)])
        assert wait_for(lambda: len(world["smtp"].received) == 1, tick=False)
        run = Enrollment.objects.get(journey=journey, customer=person)
        assert state_of(run) == EnrollmentState.WAITING
        event_ingest_batch(items=[event("points_spent", 2)])
        assert wait_for(lambda: len(world["smtp"].received) == 2, tick=False)
    awards = PointsEntry.objects.filter(customer=person, source="journey")
    assert awards.count() == 2 and sum(a.points for a in awards) == 200
    assert [o for s, o in log_of(run) if s == "wait"] == ["waiting", "outcome:used", "waiting"]


def test_an_order_during_a_wait_converts_and_exits_at_once(world):
    tpl = template()
    journey = publish(
        [
            {
                "id": "hello",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
                "next": "wait",
            },
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 3600, "next": "again"},
            {
                "id": "again",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
            },
        ],
        goal={"kind": "order", "window_seconds": 86400},
    )
    person = customer()
    with worker(world):
        run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
        order_upsert_batch(
            items=[
                OrderIn(
                    external_id="o-1",
                    customer_external_id=person.external_id,
                    status="completed",
                    placed_at=timezone.now(),
                    total="2500.00",
                    currency="RUB",
                    items=[],
                )
            ]
        )
        assert wait_for(lambda: state_of(run) == EnrollmentState.CONVERTED, timeout=10, tick=False)
    run.refresh_from_db()
    assert str(run.revenue) == "2500.00" and run.last_step == "wait"


def test_one_active_run_per_cart_key_and_a_new_run_for_another_cart(world):
    tpl = template()
    journey = publish(
        [
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 3600, "next": "hello"},
            {
                "id": "hello",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
            },
        ],
        trigger={"kind": "event", "event": "cart_abandoned"},
        entry={"policy": "one_active", "key": "cart_id"},
        name="Cart",
    )
    person = customer()

    def cart(n, cart_id):
        return EventIn(
            event_id=f"cart-{n}",
            customer_external_id=person.external_id,
            name="cart_abandoned",
            properties={"cart_id": cart_id},
            occurred_at=timezone.now(),
        )

    runs = Enrollment.objects.filter(journey=journey, customer=person)
    with worker(world):
        event_ingest_batch(items=[cart(1, "A"), cart(2, "A")])
        assert wait_for(lambda: runs.count() == 1, tick=False)
        event_ingest_batch(items=[cart(3, "B")])
        assert wait_for(lambda: runs.count() == 2, tick=False)
        time.sleep(1)
    assert sorted(runs.values_list("entry_key", flat=True)) == ["A", "B"]


def test_live_runs_move_to_a_new_version_through_the_mapping(world):
    tpl = template()
    steps = [
        {
            "id": "hello",
            "type": "send",
            "template_id": tpl.pk,
            "channel": "email",
            "on_unreachable": "continue",
            "next": "wait",
        },
        {"id": "wait", "type": "wait", "mode": "duration", "seconds": 4, "next": None},
    ]
    journey = publish(steps, name="Versions")
    people = [customer(), customer()]
    with worker(world):
        runs = [journey_enrol(journey=journey, customer_id=p.pk).enrollment for p in people]
        draft = {
            **journey.draft,
            "steps": [
                {**steps[0]},
                {**steps[1], "next": "sms"},
                {
                    "id": "sms",
                    "type": "send",
                    "template_id": tpl.pk,
                    "channel": "sms",
                    "on_unreachable": "continue",
                },
            ],
        }
        journey_draft_save(journey=journey, definition=draft)
        version = journey_publish(journey=journey, mapping={"wait": "wait"})
        assert {Enrollment.objects.get(pk=r.pk).version_id for r in runs} == {version.pk}
        assert wait_for(lambda: len(world["sms"]) == 2)
    assert all(("sms", "sent") in log_of(r) for r in runs)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_worker_killed_mid_step_neither_skips_nor_repeats_a_step(world):
    """The worker is stopped inside a run's transaction (waiting for a customer row this test
    holds locked), killed, and a fresh worker redoes the steps exactly once."""
    AttributeDefinitionFactory(key="vip", type=AttributeDefinition.Type.BOOL)
    tpl = template()
    journey = publish(
        [
            {
                "id": "award",
                "type": "action",
                "action": "points_award",
                "points": 50,
                "next": "mark",
            },
            {
                "id": "mark",
                "type": "action",
                "action": "attribute_set",
                "key": "vip",
                "value": True,
                "next": "hello",
            },
            {
                "id": "hello",
                "type": "send",
                "template_id": tpl.pk,
                "channel": "email",
                "on_unreachable": "continue",
            },
        ],
        name="Killed",
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk, advance=False).enrollment
    with worker(world) as first, transaction.atomic():
        person.__class__.objects.select_for_update().get(pk=person.pk)
        journeys_tick()  # the worker claims the run and blocks on the customer row
        time.sleep(3)
        first.kill()
        first.wait(10)
    with worker(world):
        assert wait_for(lambda: state_of(run) == EnrollmentState.COMPLETED)
        assert wait_for(lambda: len(world["smtp"].received) == 1, tick=False)
    assert PointsEntry.objects.filter(customer=person, source="journey").count() == 1
    assert Message.objects.filter(customer=person).count() == 1
    assert [(s, o) for s, o in log_of(run) if o.startswith("action")] == [
        ("award", "action:done"),
        ("mark", "action:done"),
    ]
    person.refresh_from_db()
    assert person.attributes.get("vip") is True
    assert connection.vendor == "postgresql"
