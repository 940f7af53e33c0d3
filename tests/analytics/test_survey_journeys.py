"""A survey as a journey step: sent set-based per batch through analytics' registered sender,
keyed so a retried batch sends nothing twice; "survey answered" as a wait's outcome; the
builder's form and the publishing checks; and the "after delivery" journey end to end with a
real Celery worker, a real SMTP server and the customer clicking a score in the email."""

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from analytics.models import SurveyAnswer, SurveySend
from analytics.surveys.answers import survey_answer_record
from analytics.surveys.definitions import survey_create
from campaigns.journeys.definition import definition_parse
from campaigns.journeys.models import Enrollment, EnrollmentLog, EnrollmentState
from campaigns.journeys.services.checks import definition_problems
from campaigns.journeys.services.dryrun import journey_dry_run
from campaigns.journeys.services.engine import Batch, Run, SendRequest
from campaigns.journeys.services.surveys import survey_key_prefix, surveys_flush
from campaigns.journeys.services.tick import journeys_tick
from campaigns.journeys.services.triggers import journey_enrol
from campaigns.journeys.step_forms import STEP_FORMS
from campaigns.journeys.tasks import journey_events_signal
from channels.models import DeliverySettings, Message
from channels.services.policy import forget_delivery_settings
from customers.api.schemas import EventIn
from customers.models import Event
from customers.services.events import event_ingest_batch
from tests.campaigns.journey_data import customer, publish
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker
from tests.channels.test_email import RecordingHandler, free_port
from tests.factories import CustomerFactory

BASE_URL = "https://kaskad.example"


@pytest.fixture
def no_caps(db):
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    yield
    forget_delivery_settings()


def csat(name="After delivery"):
    return survey_create("csat", name)


def survey_step(survey, **fields):
    return {
        "id": "ask",
        "type": "survey",
        "survey_id": survey.pk,
        "channel": "email",
        "on_unreachable": "exit",
        "next": None,
        **fields,
    }


def log_of(run):
    return list(EnrollmentLog.objects.filter(enrollment=run).values_list("step", "outcome"))


# --- The engine ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_survey_step_sends_the_survey_and_goes_on(no_caps):
    survey = csat()
    journey = publish([survey_step(survey)])
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    run.refresh_from_db()
    send = SurveySend.objects.get(customer=person)
    assert (send.survey_id, send.source, send.channel) == (survey.pk, "journey", "email")
    assert (send.journey_id, send.journey_step) == (journey.pk, "ask")
    assert send.idempotency_key == f"journey:{journey.pk}:ask:1:1:{person.pk}"
    assert send.message.status == "queued" and send.message.customer_id == person.pk
    assert run.state == EnrollmentState.COMPLETED
    assert run.context["messages"]["ask"] == send.message_id
    assert ("ask", "sent") in log_of(run)


@pytest.mark.django_db
def test_a_customer_the_survey_cannot_reach_takes_the_unreachable_way(no_caps):
    survey = csat()
    journey = publish([survey_step(survey)])
    person = CustomerFactory()  # no address, no consent
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    run.refresh_from_db()
    assert run.state == EnrollmentState.EXITED and run.exit_reason == "unreachable"
    assert ("ask", "unreachable") in log_of(run)
    assert SurveySend.objects.get(customer=person).state == SurveySend.State.UNSENT


@pytest.mark.django_db
def test_best_channel_picks_the_first_channel_that_reaches_the_customer(no_caps):
    survey = csat()
    journey = publish([survey_step(survey, channel="best")])
    person = customer(channels=("sms",))
    journey_enrol(journey=journey, customer_id=person.pk)
    assert SurveySend.objects.get(customer=person).channel == "sms"


@pytest.mark.django_db
def test_a_retried_batch_gets_the_first_sends_back_and_sends_nothing_twice(no_caps):
    survey = csat()
    journey = publish([survey_step(survey)])
    people = [customer() for _ in range(3)]
    runs = []
    for person in people:
        runs.append(journey_enrol(journey=journey, customer_id=person.pk, advance=False).enrollment)
    definition = definition_parse(journey.live_version.definition)

    def flush():
        batch = Batch(now=timezone.now())
        batch_runs = []
        for enrollment, person in zip(runs, people, strict=True):
            run = Run(enrollment, definition, person)
            run.send = SendRequest(
                step_id="ask",
                key="",
                channel="email",
                template_id=0,
                template_version_id=None,
                survey_id=survey.pk,
            )
            batch_runs.append(run)
        surveys_flush(batch, batch_runs)  # one call for the three
        return [r.send.message_id for r in batch_runs]

    first = flush()
    again = flush()
    assert first == again and all(first)
    assert SurveySend.objects.filter(survey=survey).count() == 3
    assert Message.objects.filter(customer__in=people).count() == 3
    assert survey_key_prefix(Run(runs[0], definition, people[0]), "ask") == (
        f"journey:{journey.pk}:ask:1:1"
    )


@pytest.mark.django_db
def test_a_wait_for_the_answer_moves_on_when_the_customer_answers(no_caps):
    survey = csat()
    journey = publish(
        [
            survey_step(survey, next="wait"),
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [
                    {"name": "answered", "kind": "survey", "survey_id": survey.pk, "next": None}
                ],
                "timeout_seconds": 3 * 86400,
                "timeout_next": "gone",
            },
            {"id": "gone", "type": "exit"},
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    run.refresh_from_db()
    assert (run.step, run.state) == ("wait", EnrollmentState.WAITING)
    # Another survey's answer is not this one.
    other = survey_create("nps", "Other")
    other_send = SurveySend.objects.create(
        survey=other,
        customer=person,
        channel="email",
        source="manual",
        expires_at=timezone.now() + timedelta(days=14),
    )
    survey_answer_record(other_send, score=9)
    journey_events_signal(list(Event.objects.filter(customer=person).values_list("pk", flat=True)))
    run.refresh_from_db()
    assert run.state == EnrollmentState.WAITING
    survey_answer_record(SurveySend.objects.get(customer=person, survey=survey), score=2)
    journey_events_signal(
        list(
            Event.objects.filter(
                customer=person, name="survey_answered", properties__survey_id=survey.pk
            ).values_list("pk", flat=True)
        )
    )
    run.refresh_from_db()
    assert run.state == EnrollmentState.COMPLETED
    assert ("wait", "outcome:answered") in log_of(run)


@pytest.mark.django_db
def test_a_wait_for_the_answer_times_out_after_three_days(no_caps):
    from campaigns.journeys.services.tick import journeys_due_advance

    survey = csat()
    journey = publish(
        [
            survey_step(survey, next="wait"),
            {
                "id": "wait",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [{"name": "answered", "kind": "survey", "survey_id": survey.pk}],
                "timeout_seconds": 3 * 86400,
                "timeout_next": "gone",
            },
            {"id": "gone", "type": "exit"},
        ]
    )
    person = customer()
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    journeys_due_advance(now=timezone.now() + timedelta(days=2))
    assert Enrollment.objects.get(pk=run.pk).state == EnrollmentState.WAITING
    journeys_due_advance(now=timezone.now() + timedelta(days=3, minutes=1))
    run.refresh_from_db()
    assert run.state == EnrollmentState.EXITED and run.exit_reason == "exit_step"
    assert ("wait", "timeout") in log_of(run)


# --- Checks, dry run, the builder's form ---------------------------------------------------------
@pytest.mark.django_db
def test_publishing_checks_name_a_missing_or_archived_survey():
    archived = csat("Old")
    archived.archived_at = timezone.now()
    archived.save()
    definition = definition_parse(
        {
            "trigger": {"kind": "api"},
            "start": "ask",
            "steps": [
                {"id": "ask", "type": "survey", "survey_id": archived.pk, "next": "wait"},
                {
                    "id": "wait",
                    "type": "wait",
                    "mode": "outcomes",
                    "outcomes": [{"name": "answered", "kind": "survey", "survey_id": 999_999}],
                    "timeout_seconds": 60,
                },
            ],
        }
    )
    found = {(p.step, p.field, p.code) for p in definition_problems(definition)}
    assert ("ask", "survey_id", "archived_survey") in found
    assert ("ask", "on_unreachable", "no_consent_handling") in found
    assert ("wait", "outcomes.answered.survey_id", "unknown_survey") in found


@pytest.mark.django_db
def test_a_dry_run_says_which_channel_the_survey_would_go_on(no_caps):
    from campaigns.journeys.services.authoring import journey_create

    survey = csat()
    journey = journey_create(
        name="Draft",
        definition={
            "trigger": {"kind": "api"},
            "start": "ask",
            "steps": [survey_step(survey, channel="best")],
        },
    )
    reachable = customer(channels=("sms",))
    path = journey_dry_run(journey=journey, customer=reachable)
    assert path[0].way == "next" and "sms" in path[0].what and survey.name in path[0].what
    path = journey_dry_run(journey=journey, customer=CustomerFactory())
    assert path[0].way == "unreachable"


@pytest.mark.django_db
def test_the_builder_form_lists_active_surveys_and_names_the_field_it_needs():
    survey = csat()
    archived = csat("Archived")
    archived.archived_at = timezone.now()
    archived.save()
    definition = definition_parse({"trigger": {"kind": "api"}, "steps": []})
    form_class = STEP_FORMS["survey"]
    form = form_class(definition=definition)
    offered = [value for value, _label in form.fields["survey"].choices]
    assert survey.pk in offered and archived.pk not in offered
    assert "template" not in form.fields

    form = form_class(
        {"channel": "email", "on_unreachable": "continue", "survey": ""}, definition=definition
    )
    assert not form.is_valid() and "survey" in form.errors
    form = form_class(
        {"channel": "email", "on_unreachable": "continue", "survey": str(archived.pk)},
        definition=definition,
    )
    assert not form.is_valid() and "survey" in form.errors  # not offered
    form = form_class(
        {"channel": "best", "on_unreachable": "exit", "survey": str(survey.pk), "name": "CSAT"},
        definition=definition,
    )
    assert form.is_valid(), form.errors
    assert form.step() == {
        "type": "survey",
        "name": "CSAT",
        "survey_id": survey.pk,
        "channel": "best",
        "on_unreachable": "exit",
        "next": None,
    }


@pytest.mark.django_db
def test_the_wait_form_takes_a_survey_answered_outcome_and_asks_for_its_survey():
    survey = csat()
    definition = definition_parse({"trigger": {"kind": "api"}, "steps": []})
    form_class = STEP_FORMS["wait"]
    base = {"mode": "outcomes", "timeout_seconds_0": "3", "timeout_seconds_1": "86400"}
    form = form_class({**base, "o1_name": "answered", "o1_kind": "survey"}, definition=definition)
    assert not form.is_valid() and "o1_survey_id" in form.errors
    form = form_class(
        {**base, "o1_name": "answered", "o1_kind": "survey", "o1_survey_id": str(survey.pk)},
        definition=definition,
    )
    assert form.is_valid(), form.errors
    assert form.step()["outcomes"][0]["survey_id"] == survey.pk


@pytest.mark.django_db
def test_the_builder_adds_a_survey_step_through_its_page(client_as):
    from campaigns.journeys.services.authoring import journey_create

    survey = csat()
    journey = journey_create(name="Builder", definition={"trigger": {"kind": "api"}, "steps": []})
    client = client_as("marketing")
    url = f"/app/campaigns/journeys/{journey.pk}/steps/add/"
    page = client.get(url, {"type": "survey"})
    assert page.status_code == 200
    assert survey.name in page.content.decode()
    bad = client.post(url, {"type": "survey", "channel": "email", "on_unreachable": "exit"})
    assert bad.status_code == 400
    journey.refresh_from_db()
    assert journey.draft["steps"] == []
    good = client.post(
        url,
        {"type": "survey", "survey": survey.pk, "channel": "email", "on_unreachable": "exit"},
    )
    assert good.status_code == 302
    journey.refresh_from_db()
    assert journey.draft["steps"][0]["type"] == "survey"
    assert journey.draft["steps"][0]["survey_id"] == survey.pk


# --- After delivery, with a real worker -----------------------------------------------------------
@pytest.fixture
def world(tmp_path, settings, no_caps):
    smtp = RecordingHandler()
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    settings.PUBLIC_BASE_URL = BASE_URL
    client, broker_env = broker_for_test(tmp_path)
    env = {
        "MESSAGING_SANDBOX": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DEFAULT_FROM_EMAIL": "shop@kaskad.example",
        "PUBLIC_BASE_URL": BASE_URL,
    }
    with app_publishing_to(client):
        yield {"smtp": smtp, "broker": broker_env, "env": env}
    controller.stop()


def wait_for(condition, timeout=60.0, tick=True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick:
            journeys_tick()
        time.sleep(0.5)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_after_delivery_the_survey_goes_out_and_the_answer_ends_the_wait(world, client):
    survey = csat()
    journey = publish(
        [
            {"id": "settle", "type": "wait", "mode": "duration", "seconds": 2, "next": "ask"},
            survey_step(survey, next="answer"),
            {
                "id": "answer",
                "type": "wait",
                "mode": "outcomes",
                "outcomes": [{"name": "answered", "kind": "survey", "survey_id": survey.pk}],
                "timeout_seconds": 3 * 86400,
                "timeout_next": None,
            },
        ],
        trigger={"kind": "event", "event": "order_delivered"},
        name="After delivery",
    )
    person = customer()
    with celery_worker(world["broker"], queues="journeys,send", extra_env=world["env"]):
        event_ingest_batch(
            items=[
                EventIn(
                    event_id="delivery-1",
                    customer_external_id=person.external_id,
                    name="order_delivered",
                    properties={"order": "A-1"},
                    occurred_at=timezone.now(),
                )
            ]
        )
        assert wait_for(lambda: len(world["smtp"].received) == 1)
        run = Enrollment.objects.get(journey=journey, customer=person)
        assert wait_for(lambda: Enrollment.objects.get(pk=run.pk).step == "answer", tick=False)
        html = world["smtp"].received[0]["message"].get_body(preferencelist=("html",)).get_content()
        links = re.findall(r'href="(https://kaskad\.example/[^"]+)"', html)
        # The customer clicks "5", the fifth score link (the scale is 1–5).
        score_links = [link for link in links if "/s/" in link or "/t/" in link]
        response = client.get(urlparse(score_links[4]).path.replace("&amp;", "&"), follow=True)
        assert response.status_code == 200
        assert SurveyAnswer.objects.get(customer=person).score == 5
        assert wait_for(
            lambda: Enrollment.objects.get(pk=run.pk).state == EnrollmentState.COMPLETED,
            tick=False,
        )
    assert ("answer", "outcome:answered") in log_of(run)
    send = SurveySend.objects.get(customer=person)
    assert (send.source, send.journey_id, send.journey_step) == ("journey", journey.pk, "ask")
