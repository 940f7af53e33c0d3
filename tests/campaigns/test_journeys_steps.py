"""Branches, splits, local-time waits, entry policies, triggers, exits, limits, checks and the
dry run, on real rows (the engine advanced by hand with a clock)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.journeys.definition import definition_parse
from campaigns.journeys.models import Enrollment, EnrollmentState, JourneyStatus
from campaigns.journeys.services.authoring import (
    JourneyError,
    journey_archive,
    journey_create,
    journey_pause,
    journey_publish,
    journey_resume,
    journey_step_add,
    journey_step_remove,
)
from campaigns.journeys.services.checks import definition_problems
from campaigns.journeys.services.dryrun import journey_dry_run
from campaigns.journeys.services.schedule import journeys_scheduled_run, next_run_after
from campaigns.journeys.services.signals import (
    journey_opt_out_signal,
    journey_segment_signal,
)
from campaigns.journeys.services.steps import local_time_after, split_bucket
from campaigns.journeys.services.triggers import journey_enrol
from channels.models import Message
from customers.services.segments import segment_members_add
from tests.campaigns.journey_data import customer, later, publish, template, tick_at
from tests.factories import RfmScoreFactory, SegmentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]


def send(step_id, tpl, nxt=None, channel="email"):
    return {
        "id": step_id,
        "type": "send",
        "template_id": tpl.pk,
        "channel": channel,
        "on_unreachable": "continue",
        "next": nxt,
    }


def test_a_branch_takes_the_first_case_that_holds_on_rfm_entry_and_results():
    tpl = template()
    journey = publish(
        [
            {
                "id": "which",
                "type": "branch",
                "cases": [
                    {
                        "name": "champion",
                        "condition": {"kind": "rule", "rule": {"rfm": {"segment": "champions"}}},
                        "next": "vip",
                    },
                    {
                        "name": "big_cart",
                        "condition": {
                            "kind": "entry",
                            "property": "total",
                            "op": "gt",
                            "value": 5000,
                        },
                        "next": "big",
                    },
                ],
                "default_next": "plain",
            },
            send("vip", tpl),
            send("big", tpl),
            send("plain", tpl),
        ]
    )
    champion, big, plain = customer(), customer(), customer()
    RfmScoreFactory(customer=champion, segment="champions")
    for person, properties in ((champion, {}), (big, {"total": 7000}), (plain, {"total": 10})):
        journey_enrol(journey=journey, customer_id=person.pk, properties=properties)
    last = dict(Enrollment.objects.values_list("customer_id", "last_step"))
    assert last == {champion.pk: "vip", big.pk: "big", plain.pk: "plain"}


def test_a_split_is_deterministic_and_a_holdout_stays_open_to_count_its_conversions():
    tpl = template()
    journey = publish(
        [
            {
                "id": "ab",
                "type": "split",
                "mode": "ab",
                "arms": [
                    {"name": "a", "percent": 45, "next": "a"},
                    {"name": "b", "percent": 45, "next": "b"},
                ],
                "holdout_percent": 10,
            },
            send("a", tpl),
            send("b", tpl),
        ],
        goal={"kind": "order", "window_seconds": 3600},
    )
    people = [customer() for _ in range(40)]
    for person in people:
        journey_enrol(journey=journey, customer_id=person.pk)
    held = [p for p in people if split_bucket(journey.pk, "ab", p.pk) < 10]
    runs = Enrollment.objects.filter(journey=journey)
    assert set(
        runs.filter(state=EnrollmentState.WAITING).values_list("customer_id", flat=True)
    ) == {p.pk for p in held}
    assert Message.objects.count() == len(people) - len(held)
    assert tick_at(later(3601)) == len(held)
    assert runs.filter(exit_reason="holdout").count() == len(held)


def test_a_wait_until_a_local_time_uses_the_customer_s_zone_and_weekdays():
    zone_since = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a Thursday, 15:00 in Moscow
    import zoneinfo

    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    assert local_time_after(zone_since, "10:00", [], moscow) == datetime(
        2026, 12, 4, 7, 0, tzinfo=UTC
    )
    assert local_time_after(zone_since, "16:00", [], moscow) == datetime(
        2026, 12, 3, 13, 0, tzinfo=UTC
    )
    monday = local_time_after(zone_since, "10:00", [0], moscow)
    assert monday == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "extra", "runs"),
    [
        ("once", {}, 1),
        ("every_time", {}, 3),
        ("one_active", {}, 1),
        ("cooldown", {"cooldown_seconds": 60}, 1),
    ],
)
def test_entry_policies(policy, extra, runs):
    tpl = template()
    journey = publish(
        [
            send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 30, "next": None},
        ],
        entry={"policy": policy, **extra},
    )
    person = customer()
    for _ in range(3):
        journey_enrol(journey=journey, customer_id=person.pk)
    assert Enrollment.objects.filter(journey=journey).count() == runs


def test_one_active_and_cooldown_allow_a_new_run_once_the_last_ended_and_the_cooldown_passed():
    tpl = template()
    journey = publish([send("hello", tpl)], entry={"policy": "cooldown", "cooldown_seconds": 60})
    person = customer()
    assert journey_enrol(journey=journey, customer_id=person.pk).enrollment.state == "completed"
    assert journey_enrol(journey=journey, customer_id=person.pk).refused == "cooldown"
    assert journey_enrol(journey=journey, customer_id=person.pk, now=later(61)).enrollment.run == 2


def test_entering_a_segment_starts_runs_and_leaving_the_exit_segment_ends_them():
    tpl = template()
    static = SegmentFactory(kind="static")
    journey = publish(
        [
            send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 600, "next": None},
        ],
        trigger={"kind": "segment_entered", "segment_id": static.pk},
        exits={"opted_out": True, "left_segment_id": static.pk},
    )
    people = [customer(), customer()]
    result = segment_members_add(segment=static, external_ids=[p.external_id for p in people])
    from customers.models import Event

    at = Event.objects.filter(name="segment_entered").values_list("occurred_at", flat=True)[0]
    assert result.entered == 2
    assert journey_segment_signal(segment_id=static.pk, at=at.isoformat()) == 2
    assert tick_at(later(1)) == 2
    assert Message.objects.count() == 2
    from customers.services.segments import segment_members_remove

    segment_members_remove(segment=static, external_ids=[people[0].external_id])
    left_at = Event.objects.filter(name="segment_left").values_list("occurred_at", flat=True)[0]
    journey_segment_signal(segment_id=static.pk, at=left_at.isoformat())
    runs = dict(
        Enrollment.objects.filter(journey=journey).values_list("customer_id", "exit_reason")
    )
    assert runs == {people[0].pk: "left_segment", people[1].pk: ""}


def test_opting_out_ends_the_run_at_once():
    tpl = template()
    journey = publish(
        [
            send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 600, "next": "again"},
            send("again", tpl),
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    journey_opt_out_signal(customer_ids=[person.pk])
    run.refresh_from_db()
    assert (run.state, run.exit_reason) == (EnrollmentState.EXITED, "opted_out")


def test_a_schedule_trigger_enrols_the_segment_at_its_time_and_moves_to_the_next():
    tpl = template()
    segment = SegmentFactory(kind="static")
    journey = publish(
        [send("hello", tpl)],
        trigger={
            "kind": "schedule",
            "segment_id": segment.pk,
            "every": "week",
            "weekday": 3,
            "at": "09:00",
        },
    )
    people = [customer(), customer()]
    segment_members_add(segment=segment, external_ids=[p.external_id for p in people])
    journey.refresh_from_db()
    assert journey.next_run_at.weekday() == 3 and journey.next_run_at.hour == 9
    assert journeys_scheduled_run(now=journey.next_run_at) == 2
    assert journeys_scheduled_run(now=journey.next_run_at) == 0  # claimed and moved on
    journey.refresh_from_db()
    assert journey.next_run_at - next_run_after(
        journey_trigger := definition_parse(journey.live_version.definition).trigger,
        journey.next_run_at - timedelta(days=7),
    ) == timedelta(0)
    assert journey_trigger.kind == "schedule"


def test_a_birthday_trigger_starts_a_run_three_days_before_once_a_year():
    tpl = template()
    journey = publish(
        [send("hello", tpl)],
        trigger={"kind": "date", "field": "birth_date", "offset_days": -3, "at": "08:00"},
        entry={"policy": "once"},
    )
    today = timezone.now().date()
    person = customer(birth_date=(today + timedelta(days=3)).replace(year=1990))
    customer(birth_date=(today + timedelta(days=4)).replace(year=1990))
    journey.refresh_from_db()
    moment = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    from campaigns.journeys.models import Journey

    Journey.objects.filter(pk=journey.pk).update(next_run_at=moment)
    assert journeys_scheduled_run(now=moment) == 1
    assert Enrollment.objects.get(journey=journey).customer_id == person.pk


def test_a_journey_s_daily_limit_per_customer_delays_the_second_send():
    tpl = template()
    journey = publish(
        [send("one", tpl, "two"), send("two", tpl)], limits={"per_customer_per_day": 1}
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    assert (run.state, run.step) == (EnrollmentState.WAITING, "two")
    assert Message.objects.count() == 1
    assert tick_at(later(86401)) == 1
    assert Message.objects.count() == 2


def test_checks_find_unreachable_steps_waits_without_timeout_unbounded_loops_and_missing_handling():
    tpl = template(variants={"email": {"subject": "s", "html": "<p>x</p>"}})
    definition = definition_parse(
        {
            "trigger": {"kind": "api"},
            "start": "hello",
            "steps": [
                {
                    "id": "hello",
                    "type": "send",
                    "template_id": tpl.pk,
                    "channel": "sms",
                    "next": "wait",
                },
                {
                    "id": "wait",
                    "type": "wait",
                    "mode": "outcomes",
                    "outcomes": [{"name": "opened", "kind": "message", "next": "hello"}],
                },
                {"id": "orphan", "type": "exit"},
            ],
        }
    )
    codes = {(p.step, p.code) for p in definition_problems(definition)}
    assert codes == {
        ("orphan", "unreachable"),
        ("wait", "no_timeout"),
        ("hello", "unbounded_loop"),
        ("hello", "no_consent_handling"),
        ("hello", "missing_variant"),
    }


def test_publishing_a_draft_with_problems_stores_no_version():
    journey = journey_create(name="Broken", definition={"trigger": {"kind": "api"}, "steps": []})
    with pytest.raises(JourneyError) as error:
        journey_publish(journey=journey)
    assert error.value.problems[0].code == "no_steps"
    assert not journey.versions.exists()


def test_steps_are_inserted_after_a_way_out_and_removed_with_their_links_mended():
    tpl = template()
    journey = journey_create(name="Edit", definition={"trigger": {"kind": "api"}, "steps": []})
    journey = journey_step_add(journey=journey, after=None, step=send("", tpl) | {"id": "first"})
    journey = journey_step_add(journey=journey, after="first", step={"type": "exit"})
    journey = journey_step_add(
        journey=journey, after="first", step={"type": "wait", "mode": "duration", "seconds": 60}
    )
    steps = {s["id"]: s for s in journey.draft["steps"]}
    assert steps["first"]["next"] == "wait-1" and steps["wait-1"]["next"] == "exit-1"
    journey = journey_step_remove(journey=journey, step_id="wait-1")
    assert {s["id"]: s for s in journey.draft["steps"]}["first"]["next"] == "exit-1"


def test_pause_resume_and_archive_move_the_status_and_archive_ends_open_runs():
    tpl = template()
    journey = publish(
        [
            send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 60, "next": None},
        ]
    )
    person = customer()
    journey_enrol(journey=journey, customer_id=person.pk)
    journey_pause(journey=journey)
    assert journey_enrol(journey=journey, customer_id=customer().pk).refused == "not_live"
    assert tick_at(later(61)) == 0  # paused: timers wait
    journey_resume(journey=journey)
    with pytest.raises(JourneyError):
        journey_resume(journey=journey)
    journey_archive(journey=journey)
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.ARCHIVED
    assert Enrollment.objects.get(customer=person).exit_reason == "archived"


def test_a_dry_run_shows_the_path_and_the_rendered_messages_and_sends_nothing():
    tpl = template()
    journey = journey_create(
        name="Dry",
        definition={
            "trigger": {"kind": "api"},
            "start": "hello",
            "steps": [
                send("hello", tpl, "wait"),
                {
                    "id": "wait",
                    "type": "wait",
                    "mode": "outcomes",
                    "outcomes": [{"name": "opened", "kind": "message", "next": "thanks"}],
                    "timeout_seconds": 60,
                    "timeout_next": "sms",
                },
                send("thanks", tpl),
                send("sms", tpl, channel="sms"),
            ],
        },
    )
    person = customer(first_name="Ольга")
    path = journey_dry_run(journey=journey, customer=person)
    assert [(p.step, p.way) for p in path] == [
        ("hello", "next"),
        ("wait", "timeout"),
        ("sms", "next"),
    ]
    assert path[0].messages[0].subject == "Ольга, a gift"
    opened = journey_dry_run(journey=journey, customer=person, assume={"wait": "opened"})
    assert [p.step for p in opened] == ["hello", "wait", "thanks"]
    assert not Message.objects.exists() and not Enrollment.objects.exists()


def test_a_held_out_run_ignores_unrelated_events_and_still_counts_a_conversion():
    from campaigns.journeys.services.signals import journey_events_signal, journey_orders_signal
    from tests.factories import EventFactory, OrderFactory

    tpl = template()
    journey = publish(
        [
            {
                "id": "ab",
                "type": "split",
                "arms": [{"name": "a", "percent": 1, "next": "a"}],
                "holdout_percent": 99,
            },
            send("a", tpl),
        ],
        goal={"kind": "order", "window_seconds": 3600},
    )
    person = next(
        p for p in (customer() for _ in range(20)) if split_bucket(journey.pk, "ab", p.pk) < 99
    )
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    event = EventFactory(customer=person, name="page_view", occurred_at=later(1))
    journey_events_signal(event_ids=[event.pk])
    run.refresh_from_db()
    assert run.state == EnrollmentState.WAITING
    order = OrderFactory(customer=person, placed_at=later(2), total="300.00")
    journey_orders_signal(order_ids=[order.pk])
    run.refresh_from_db()
    assert (run.state, str(run.revenue), run.last_step) == ("converted", "300.00", "ab")


def test_a_run_whose_order_signal_was_lost_converts_when_its_timer_wakes_it():
    from tests.factories import OrderFactory

    tpl = template()
    journey = publish(
        [
            send("hello", tpl, "wait"),
            {"id": "wait", "type": "wait", "mode": "duration", "seconds": 600, "next": "again"},
            send("again", tpl),
        ],
        goal={"kind": "order", "window_seconds": 86400},
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    OrderFactory(customer=person, placed_at=later(60), total="990.00")  # no signal handled
    assert tick_at(later(601)) == 1
    run.refresh_from_db()
    assert (run.state, str(run.revenue)) == (EnrollmentState.CONVERTED, "990.00")
    assert Message.objects.filter(customer=person).count() == 1


def test_a_definition_with_a_nul_character_is_refused_naming_the_field():
    with pytest.raises(JourneyError) as error:
        journey_create(
            name="Nul",
            definition={"trigger": {"kind": "event", "event": "a\x00b"}, "steps": []},
        )
    assert "trigger" in error.value.field
