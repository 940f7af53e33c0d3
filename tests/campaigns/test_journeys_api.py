"""API v1 for journeys over the real engine: create and change the draft, check and publish it
(with a step mapping), pause, resume and archive, enrol customers, read the step counts, a
customer's runs and a dry run."""

from decimal import Decimal

import pytest
import yaml
from django.test import Client
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from api.models import AuditEntry
from api.services import api_key_create
from campaigns.journeys.models import (
    Enrollment,
    EnrollmentState,
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from campaigns.journeys.services.signals import journey_orders_signal
from campaigns.journeys.services.triggers import journey_enrol
from channels.models import Message
from tests.campaigns.journey_data import customer, later, template, tick_at
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_caps")]

JOURNEYS = "/api/v1/journeys"


@pytest.fixture(scope="module")
def components():
    return yaml.safe_load(Client().get("/api/v1/schema/").content)["components"]


def assert_documented(components, name: str, body) -> None:
    """The body matches the schema's component `name`, as clients generated from it expect."""
    Draft202012Validator({**components["schemas"][name], "components": components}).validate(body)


def client_with(*scopes: str) -> APIClient:
    _, raw_key = api_key_create(name="+".join(scopes), scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.default_format = "json"
    return client


def send(step_id, tpl, nxt=None, on_unreachable="continue", channel="email") -> dict:
    return {
        "id": step_id,
        "type": "send",
        "template_id": tpl.pk,
        "channel": channel,
        "on_unreachable": on_unreachable,
        "next": nxt,
    }


def wait(step_id, nxt=None, seconds=3600) -> dict:
    return {"id": step_id, "type": "wait", "mode": "duration", "seconds": seconds, "next": nxt}


def definition(*steps, policy="one_active", **more) -> dict:
    return {
        "trigger": {"kind": "api"},
        "entry": {"policy": policy},
        "start": steps[0]["id"] if steps else None,
        "steps": list(steps),
        **more,
    }


def create(api, body_definition=None, **fields) -> dict:
    body = {"name": "Welcome", **fields}
    body["definition"] = body_definition or definition(send("hello", template()))
    response = api.post(JOURNEYS, body)
    assert response.status_code == 201, response.json()
    return response.json()


def published(api, body_definition=None, **fields) -> dict:
    made = create(api, body_definition, **fields)
    response = api.post(f"{JOURNEYS}/{made['id']}/publish")
    assert response.status_code == 201, response.json()
    return api.get(f"{JOURNEYS}/{made['id']}").json()


# --- Create, read, change ------------------------------------------------------------------------
def test_a_journey_is_created_as_a_draft_and_read_back(api, components):
    tpl = template()
    made = create(api, definition(send("hello", tpl)), description="First order")
    assert (made["status"], made["live_version"], made["draft_changed"]) == ("draft", None, True)
    assert made["description"] == "First order" and made["trigger"] == "api"
    assert made["draft"]["steps"][0]["template_id"] == tpl.pk
    assert made["draft"]["entry"] == {"policy": "one_active", "cooldown_seconds": 0, "key": ""}
    assert made["totals"] == {"entered": 0, "open": 0, "converted": 0, "revenue": "0.00"}
    assert_documented(components, "Journey", made)
    assert api.get(f"{JOURNEYS}/{made['id']}").json() == made
    assert AuditEntry.objects.filter(action="journey.create").count() == 1


def _invalid_bodies():
    """(a change to a valid body, the field the 400 names)."""
    hello = {"id": "hello", "type": "send", "template_id": 1, "on_unreachable": "continue"}
    no_template = {k: v for k, v in hello.items() if k != "template_id"}
    return [
        ({"name": " "}, "name"),
        ({"name": None}, "name"),
        ({"definition": None}, "definition"),
        ({"definition": {"steps": []}}, "definition.trigger"),
        ({"definition": {"trigger": {"kind": "radio"}}}, "definition.trigger"),
        ({"definition": {"trigger": {"kind": "api", "colour": 1}}}, "definition.trigger.colour"),
        ({"definition": definition(no_template)}, "definition.steps[0].template_id"),
        (
            {"definition": definition(hello, {"id": "w", "type": "wait", "mode": "duration"})},
            "definition.steps[1]",
        ),
        (
            {"definition": {**definition(hello), "steps": [{**hello, "id": "Hello!"}]}},
            "definition.steps[0].id",
        ),
        ({"definition": definition(hello, hello)}, "definition"),
        ({"definition": definition(hello, policy="cooldown")}, "definition.entry"),
        ({"definition": definition({**hello, "type": "fax"})}, "definition.steps[0]"),
        ({"colour": "red"}, "colour"),
    ]


@pytest.mark.parametrize(("changes", "field"), _invalid_bodies())
def test_each_invalid_field_is_a_400_naming_it_and_nothing_is_stored(api, changes, field):
    body = {"name": "Welcome", "definition": definition(send("hello", template()))}
    response = api.post(JOURNEYS, {**body, **changes})
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Journey.objects.exists()


def test_every_bad_field_of_a_definition_is_named_at_once(api):
    steps = [{"id": "a", "type": "send"}, {"id": "b", "type": "wait", "mode": "duration"}]
    response = api.post(JOURNEYS, {"name": "x", "definition": definition(*steps)})
    assert [e["field"] for e in response.json()["errors"]] == [
        "definition.steps[0].template_id",
        "definition.steps[1]",
    ]
    assert "seconds must be positive" in response.json()["errors"][1]["message"]


def test_patch_changes_the_draft_name_and_description_and_leaves_the_rest(api):
    tpl = template()
    made = create(api)
    url = f"{JOURNEYS}/{made['id']}"
    renamed = api.patch(url, {"name": "Welcome series", "description": "New"}).json()
    assert (renamed["name"], renamed["description"]) == ("Welcome series", "New")
    assert renamed["draft"] == made["draft"]
    new = definition(send("hi", tpl, "pause"), wait("pause"))
    changed = api.patch(url, {"definition": new})
    assert changed.status_code == 200, changed.json()
    assert [s["id"] for s in changed.json()["draft"]["steps"]] == ["hi", "pause"]
    assert changed.json()["name"] == "Welcome series"
    bad = api.patch(url, {"definition": definition({"id": "x", "type": "send"})})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "definition.steps[0].template_id"
    assert Journey.objects.get(pk=made["id"]).draft["start"] == "hi"
    assert api.patch(f"{JOURNEYS}/999999", {"name": "x"}).status_code == 404


def test_a_rename_of_a_published_journey_does_not_mark_its_draft_changed(api):
    live = published(api)
    assert live["draft_changed"] is False
    renamed = api.patch(f"{JOURNEYS}/{live['id']}", {"name": "Renamed"}).json()
    assert renamed["draft_changed"] is False
    changed = api.patch(
        f"{JOURNEYS}/{live['id']}", {"definition": definition(send("other", template()))}
    ).json()
    assert changed["draft_changed"] is True


def test_the_list_pages_with_a_signed_cursor_and_filters_by_status(api):
    made = [create(api, name=f"J{i}")["id"] for i in range(3)]
    Journey.objects.filter(pk=made[0]).update(status=JourneyStatus.PAUSED)
    first = api.get(JOURNEYS, {"limit": 2}).json()
    assert [j["id"] for j in first["results"]] == [made[2], made[1]]
    second = api.get(first["next"]).json()
    assert [j["id"] for j in second["results"]] == [made[0]] and second["next"] is None
    forged = api.get(JOURNEYS, {"cursor": "cD0x"})
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_cursor"
    paused = api.get(JOURNEYS, {"status": "paused"}).json()["results"]
    assert [j["id"] for j in paused] == [made[0]]
    wrong = api.get(JOURNEYS, {"status": "done"})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "status"


# --- Checks and publishing -----------------------------------------------------------------------
def test_checks_list_the_drafts_problems_and_publish_refuses_them(api, components):
    sms_only = template("Sms", {"sms": {"body": "Hi"}})
    steps = [
        send("hello", sms_only, channel="email", on_unreachable=None),
        wait("orphan"),
    ]
    made = create(api, definition(*steps))
    url = f"{JOURNEYS}/{made['id']}"
    checks = api.get(f"{url}/checks").json()
    assert_documented(components, "JourneyChecks", checks)
    assert checks["publishable"] is False
    expected = {
        ("hello", "on_unreachable", "no_consent_handling"),
        ("hello", "template_id", "missing_variant"),
        ("orphan", "", "unreachable"),
    }
    assert {(p["step"], p["field"], p["code"]) for p in checks["problems"]} == expected
    refused = api.post(f"{url}/publish")
    assert refused.status_code == 400 and refused.json()["code"] == "draft_has_problems"
    assert {(e["step"], e["field"], e["code"]) for e in refused.json()["errors"]} == expected
    assert all(e["message"] for e in refused.json()["errors"])
    assert not JourneyVersion.objects.exists()
    assert Journey.objects.get(pk=made["id"]).status == JourneyStatus.DRAFT


def test_create_patch_and_publish_round_trip_gives_numbered_versions(api, components):
    tpl = template()
    made = create(api, definition(send("hello", tpl)))
    url = f"{JOURNEYS}/{made['id']}"
    assert api.get(f"{url}/checks").json() == {"publishable": True, "problems": []}
    first = api.post(f"{url}/publish", {"note": "First"})
    assert first.status_code == 201, first.json()
    assert_documented(components, "JourneyVersion", first.json())
    assert (first.json()["number"], first.json()["note"], first.json()["mapping"]) == (
        1,
        "First",
        {},
    )
    pinned = first.json()["definition"]["steps"][0]["template_version_id"]
    assert pinned == tpl.current_version_id
    live = api.get(url).json()
    assert (live["status"], live["live_version"], live["draft_changed"]) == ("live", 1, False)
    api.patch(url, {"definition": definition(send("hello", tpl, "later"), wait("later"))})
    assert api.get(url).json()["draft_changed"] is True
    second = api.post(f"{url}/publish").json()
    assert second["number"] == 2
    assert api.get(url).json()["live_version"] == 2
    listed = api.get(f"{url}/versions").json()["results"]
    assert [v["number"] for v in listed] == [2, 1]
    assert api.get(f"{url}/versions/1").json() == first.json()
    assert api.get(f"{url}/versions/3").status_code == 404
    assert api.get(f"{JOURNEYS}/999999/versions").status_code == 404


def test_publish_with_a_mapping_moves_open_runs_and_a_bad_mapping_names_the_step(api):
    tpl = template()
    live = published(api, definition(send("hello", tpl, "pause"), wait("pause")))
    url = f"{JOURNEYS}/{live['id']}"
    person = customer()
    journey = Journey.objects.get(pk=live["id"])
    run = journey_enrol(journey=journey, customer_id=person.pk).enrollment
    assert (run.state, run.step) == (EnrollmentState.WAITING, "pause")
    api.patch(url, {"definition": definition(send("hello", tpl, "rest"), wait("rest"))})
    for mapping, field in (
        ({"nowhere": "rest"}, "mapping.nowhere"),
        ({"pause": "nowhere"}, "mapping.pause"),
        ({"Pause!": "rest"}, "mapping.Pause!"),
    ):
        refused = api.post(f"{url}/publish", {"mapping": mapping})
        assert refused.status_code == 400, mapping
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert JourneyVersion.objects.filter(journey=journey).count() == 1
    moved = api.post(f"{url}/publish", {"mapping": {"pause": "rest"}})
    assert moved.status_code == 201 and moved.json()["mapping"] == {"pause": "rest"}
    run.refresh_from_db()
    assert (run.version.number, run.step, run.state) == (2, "rest", EnrollmentState.WAITING)


def test_pause_resume_and_archive_and_the_wrong_status_is_409(api, components):
    made = create(api)
    url = f"{JOURNEYS}/{made['id']}"
    for action in ("pause", "resume"):
        refused = api.post(f"{url}/{action}")
        assert refused.status_code == 409, action
        assert refused.json()["code"] == "wrong_status"
        assert refused.json()["errors"][0]["field"] == "status"
    api.post(f"{url}/publish")
    paused = api.post(f"{url}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert_documented(components, "Journey", paused.json())
    assert api.post(f"{url}/pause").status_code == 409
    resumed = api.post(f"{url}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "live"
    assert api.post(f"{url}/resume").status_code == 409
    archived = api.post(f"{url}/archive")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    for refused in (
        api.post(f"{url}/archive"),
        api.post(f"{url}/publish"),
        api.patch(url, {"name": "Again"}),
    ):
        assert refused.status_code == 409 and refused.json()["code"] == "wrong_status"
    assert api.post(f"{JOURNEYS}/999999/pause").status_code == 404


def test_archiving_ends_the_open_runs(api):
    live = published(api, definition(send("hello", template(), "pause"), wait("pause")))
    person = customer()
    run = api.post(f"{JOURNEYS}/{live['id']}/enrollments", {"customer": person.external_id})
    assert run.json()["state"] == "waiting"
    api.post(f"{JOURNEYS}/{live['id']}/archive")
    ended = Enrollment.objects.get(pk=run.json()["id"])
    assert (ended.state, ended.exit_reason) == (EnrollmentState.EXITED, "archived")


# --- Enrolment -----------------------------------------------------------------------------------
def test_enrolling_a_customer_starts_a_run_and_stores_the_first_message(api, components):
    live = published(api, definition(send("hello", template(), "pause"), wait("pause")))
    person = customer(first_name="Olga")
    response = api.post(
        f"{JOURNEYS}/{live['id']}/enrollments",
        {"customer": person.external_id, "properties": {"cart_id": "c-7"}},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert_documented(components, "JourneyEnrollment", body)
    assert (body["journey"], body["version"], body["customer"], body["run"]) == (
        live["id"],
        1,
        person.external_id,
        1,
    )
    assert (body["state"], body["step"]) == ("waiting", "pause")
    message = Message.objects.get(customer=person)
    assert message.channel == "email" and message.subject == "Olga, a gift"
    assert message.idempotency_key == f"journey:{body['id']}:hello:1"
    run = Enrollment.objects.get(pk=body["id"])
    assert run.context["entry"] == {"cart_id": "c-7"}


def test_the_trigger_kind_does_not_matter_for_an_api_enrolment(api):
    on_event = definition(send("hello", template()))
    on_event["trigger"] = {"kind": "event", "event": "signed_up"}
    live = published(api, on_event)
    response = api.post(
        f"{JOURNEYS}/{live['id']}/enrollments", {"customer": customer().external_id}
    )
    assert response.status_code == 201 and response.json()["state"] == "completed"


def test_a_second_enrolment_under_once_is_409_entry_refused_with_the_reason(api):
    live = published(api, definition(send("hello", template()), policy="once"))
    url = f"{JOURNEYS}/{live['id']}/enrollments"
    person = customer()
    assert api.post(url, {"customer": person.external_id}).status_code == 201
    refused = api.post(url, {"customer": person.external_id})
    assert refused.status_code == 409 and refused.json()["code"] == "entry_refused"
    assert refused.json()["errors"][0]["code"] == "once"
    assert refused.json()["errors"][0]["field"] == "customer"
    assert Enrollment.objects.filter(customer=person).count() == 1
    assert Message.objects.filter(customer=person).count() == 1


def test_an_open_run_refuses_another_as_active_and_a_paused_journey_as_not_live(api):
    live = published(api, definition(send("hello", template(), "pause"), wait("pause")))
    url = f"{JOURNEYS}/{live['id']}/enrollments"
    person = customer()
    assert api.post(url, {"customer": person.external_id}).status_code == 201
    active = api.post(url, {"customer": person.external_id})
    assert active.status_code == 409 and active.json()["errors"][0]["code"] == "active"
    api.post(f"{JOURNEYS}/{live['id']}/pause")
    not_live = api.post(url, {"customer": customer().external_id})
    assert not_live.status_code == 409
    assert not_live.json()["errors"][0] == {
        "field": "status",
        "code": "not_live",
        "message": "The journey is not live (a draft, paused or archived).",
    }
    draft = create(api)
    refused = api.post(f"{JOURNEYS}/{draft['id']}/enrollments", {"customer": person.external_id})
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_live"


def test_enrolling_an_unknown_or_erased_customer_is_a_400_naming_customer(api):
    live = published(api)
    url = f"{JOURNEYS}/{live['id']}/enrollments"
    erased = CustomerFactory()
    type(erased).objects.filter(pk=erased.pk).update(erased_at=later(0))
    for external_id in ("nobody", erased.external_id):
        response = api.post(url, {"customer": external_id})
        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "field": "customer",
            "code": "not_found",
            "message": "no such customer",
        }
    bad = api.post(url, {"customer": customer().external_id, "properties": {"n": 2**60}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "properties"
    assert not Enrollment.objects.exists()
    assert api.post(f"{JOURNEYS}/999999/enrollments", {"customer": "x"}).status_code == 404


def test_an_enrolment_retried_with_the_same_idempotency_key_replays_the_first_answer(api):
    live = published(api, definition(send("hello", template()), policy="every_time"))
    url = f"{JOURNEYS}/{live['id']}/enrollments"
    person = customer()
    first = api.post(url, {"customer": person.external_id}, HTTP_IDEMPOTENCY_KEY="e-1")
    retry = api.post(url, {"customer": person.external_id}, HTTP_IDEMPOTENCY_KEY="e-1")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert Enrollment.objects.filter(customer=person).count() == 1
    assert Message.objects.filter(customer=person).count() == 1
    other = api.post(url, {"customer": person.external_id}, HTTP_IDEMPOTENCY_KEY="e-2")
    assert other.status_code == 201 and other.json()["run"] == 2
    reused = api.post(url, {"customer": customer().external_id}, HTTP_IDEMPOTENCY_KEY="e-1")
    assert reused.status_code == 422


def test_a_create_retried_with_the_same_key_makes_one_journey(api):
    body = {"name": "Once", "definition": definition(send("hello", template()))}
    first = api.post(JOURNEYS, body, HTTP_IDEMPOTENCY_KEY="c-1")
    retry = api.post(JOURNEYS, body, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert Journey.objects.count() == 1


def test_a_publish_retried_with_the_same_key_makes_one_version(api):
    made = create(api)
    url = f"{JOURNEYS}/{made['id']}/publish"
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="p-1")
    retry = api.post(url, HTTP_IDEMPOTENCY_KEY="p-1")
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    assert JourneyVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="journey.publish").count() == 1


# --- Scopes --------------------------------------------------------------------------------------
def test_each_operation_needs_its_scope(api):
    made = create(api)
    url = f"{JOURNEYS}/{made['id']}"
    person = customer()
    reader = client_with("read")
    for path in (JOURNEYS, url, f"{url}/versions", f"{url}/checks", f"{url}/stats"):
        assert reader.get(path).status_code == 200, path
    assert reader.get(f"/api/v1/customers/{person.external_id}/journeys").status_code == 200
    # A dry run saves and sends nothing: read is enough.
    assert reader.post(f"{url}/dry-run", {"customer": person.external_id}).status_code == 200
    refused = reader.post(JOURNEYS, {"name": "x", "definition": made["draft"]})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert reader.patch(url, {"name": "y"}).status_code == 403
    writer = client_with("write")
    assert writer.get(JOURNEYS).status_code == 403
    assert writer.post(JOURNEYS, {"name": "x", "definition": made["draft"]}).status_code == 201
    # Publishing, resuming and enrolling make messages go out: they need messages:send.
    for action, body in (("publish", {}), ("resume", {}), ("enrollments", {"customer": "c"})):
        for client in (reader, writer):
            response = client.post(f"{url}/{action}", body)
            assert response.status_code == 403, action
            assert "messages:send" in response.json()["message"]
    assert Journey.objects.get(pk=made["id"]).status == JourneyStatus.DRAFT
    sender = client_with("messages:send")
    assert sender.post(f"{url}/publish").status_code == 201
    enrolled = sender.post(f"{url}/enrollments", {"customer": person.external_id})
    assert enrolled.status_code == 201
    assert reader.post(f"{url}/pause").status_code == 403
    assert writer.post(f"{url}/pause").status_code == 200
    assert writer.post(f"{url}/archive").status_code == 200


# --- Reading runs, counts and a dry run ----------------------------------------------------------
def test_a_customers_runs_are_listed_newest_first_with_their_history(api, components):
    tpl = template()
    first = published(api, definition(send("hello", tpl)), name="Welcome")
    second = published(api, definition(send("hi", tpl, "pause"), wait("pause")), name="Nurture")
    person = customer()
    for journey in (first, second):
        api.post(f"{JOURNEYS}/{journey['id']}/enrollments", {"customer": person.external_id})
    api.post(f"{JOURNEYS}/{first['id']}/enrollments", {"customer": customer().external_id})
    url = f"/api/v1/customers/{person.external_id}/journeys"
    runs = api.get(url).json()["results"]
    for run in runs:
        assert_documented(components, "CustomerJourneyRun", run)
    assert [(r["journey_name"], r["state"], r["step"]) for r in runs] == [
        ("Nurture", "waiting", "pause"),
        ("Welcome", "completed", "hello"),
    ]
    assert "history" not in runs[0] and runs[1]["ended_at"]
    paged = api.get(url, {"limit": 1}).json()
    assert len(paged["results"]) == 1 and api.get(paged["next"]).json()["results"] == [runs[1]]
    logged = api.get(url, {"history": "1"}).json()["results"]
    assert [h["outcome"] for h in logged[1]["history"]] == ["entered", "sent", "completed"]
    assert [h["step"] for h in logged[0]["history"]][:2] == ["hi", "hi"]
    assert api.get(url, {"history": "yes"}).status_code == 400
    assert api.get("/api/v1/customers/nobody/journeys").status_code == 404


def test_stats_count_each_step_of_the_live_version_or_of_a_version_asked_for(api, components):
    tpl = template()
    steps = [send("hello", tpl, "pause"), wait("pause", "bye", seconds=60), send("bye", tpl)]
    made = create(api, definition(*steps, goal={"kind": "order"}))
    url = f"{JOURNEYS}/{made['id']}"
    before = api.get(f"{url}/stats").json()
    assert (before["version"], before["steps"], before["journey"]["entered"]) == (None, [], 0)
    api.post(f"{url}/publish")
    people = [customer() for _ in range(3)]
    for person in people:
        api.post(f"{url}/enrollments", {"customer": person.external_id})
    buyer = people[0]
    order = OrderFactory(customer=buyer, total=Decimal("120.00"), placed_at=later(0))
    journey_orders_signal(order_ids=[order.pk])
    assert tick_at(later(120)) >= 2
    stats = api.get(f"{url}/stats").json()
    assert_documented(components, "JourneyStats", stats)
    by_step = {row["step"]: row for row in stats["steps"]}
    assert [row["step"] for row in stats["steps"]] == ["hello", "pause", "bye"]
    assert stats["version"] == 1 and stats["journey"]["entered"] == 3
    assert by_step["hello"]["entered"] == 3 and by_step["hello"]["passed"] == {"next": 3}
    assert by_step["pause"]["converted"] == 1 and by_step["pause"]["revenue"] == "120.00"
    assert by_step["bye"]["entered"] == 2 and by_step["bye"]["waiting"] == 0
    assert api.get(f"{JOURNEYS}/{made['id']}").json()["totals"] == {
        "entered": 3,
        "open": 0,
        "converted": 1,
        "revenue": "120.00",
    }
    assert api.get(f"{url}/stats", {"version": "1"}).json() == stats
    assert api.get(f"{url}/stats", {"version": "2"}).status_code == 404
    bad = api.get(f"{url}/stats", {"version": "first"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "version"


def test_a_dry_run_gives_the_path_with_the_messages_and_assumed_outcomes(api, components):
    tpl = template()
    watch = {
        "id": "watch",
        "type": "wait",
        "mode": "outcomes",
        "outcomes": [{"name": "opened", "kind": "message", "next": "thanks"}],
        "timeout_seconds": 3600,
        "timeout_next": "reminder",
    }
    steps = [send("hello", tpl, "watch"), watch, send("thanks", tpl), send("reminder", tpl)]
    made = create(api, definition(*steps))
    url = f"{JOURNEYS}/{made['id']}/dry-run"
    person = customer(first_name="Olga")
    timed_out = api.post(url, {"customer": person.external_id})
    assert timed_out.status_code == 200, timed_out.json()
    assert_documented(components, "JourneyDryRun", timed_out.json())
    path = timed_out.json()["path"]
    assert [(p["step"], p["way"]) for p in path] == [
        ("hello", "next"),
        ("watch", "timeout"),
        ("reminder", "next"),
    ]
    hello = path[0]["messages"][0]
    assert (hello["channel"], hello["subject"], hello["refusal"]) == ("email", "Olga, a gift", "")
    opened = api.post(url, {"customer": person.external_id, "assume": {"watch": "opened"}})
    assert [p["step"] for p in opened.json()["path"]] == ["hello", "watch", "thanks"]
    assert not Message.objects.exists() and not Enrollment.objects.exists()
    unknown = api.post(url, {"customer": "nobody"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "customer"
    bad = api.post(url, {"customer": person.external_id, "assume": {"watch": "Opened!"}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "assume.watch"


def test_a_dry_run_says_why_a_customer_without_consent_would_not_be_sent_to(api):
    made = create(api, definition(send("hello", template())))
    silent = CustomerFactory()
    path = api.post(f"{JOURNEYS}/{made['id']}/dry-run", {"customer": silent.external_id})
    step = path.json()["path"][0]
    assert step["way"] == "unreachable" and step["messages"][0]["refusal"]
