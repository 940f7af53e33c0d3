"""The journey pages: who may see and change them, a step added, changed and removed through the
builder's forms, bad forms that change nothing, publishing (refused while the checks find
problems), the dry run, and the customer page's journeys block."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.journeys.models import Enrollment, Journey, JourneyStatus
from campaigns.journeys.services.authoring import journey_create, journey_publish
from tests.campaigns.journey_data import customer, template

pytestmark = pytest.mark.django_db

LIST = reverse("campaigns:journeys")
NEW = reverse("campaigns:journey_new")


@pytest.fixture
def viewer(client, staff_user):
    """Someone who may see campaigns but not change them (view_campaigns alone)."""
    user = staff_user("support")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="workspace", codename="view_campaigns")
    )
    client.force_login(user)
    return client


@pytest.fixture
def gift():
    return template()


@pytest.fixture
def journey(gift):
    """Send → wait an hour → exit: a draft with no problems."""
    return journey_create(
        name="Welcome",
        definition={
            "trigger": {"kind": "event", "event": "signed_up"},
            "start": "hello",
            "steps": [
                {
                    "id": "hello",
                    "type": "send",
                    "name": "Hello",
                    "template_id": gift.pk,
                    "channel": "email",
                    "on_unreachable": "continue",
                    "next": "pause",
                },
                {
                    "id": "pause",
                    "type": "wait",
                    "mode": "duration",
                    "seconds": 3600,
                    "next": "done",
                },
                {"id": "done", "type": "exit"},
            ],
        },
    )


def _url(name, journey, *args):
    return reverse(f"campaigns:{name}", args=[journey.pk, *args])


def _draft(journey):
    journey.refresh_from_db()
    return {s["id"]: s for s in journey.draft["steps"]}


# --- Roles -----------------------------------------------------------------------------------
def test_marketing_sees_every_page_with_its_controls(client_as, journey):
    client = client_as("marketing")
    assert LIST in client.get(reverse("campaigns:index")).content.decode()
    listing = client.get(LIST).content.decode()
    assert "Welcome" in listing and NEW in listing
    for url in (
        NEW,
        _url("journey", journey),
        _url("journey_settings", journey),
        _url("journey_publish", journey),
        _url("journey_dry_run", journey),
        _url("journey_step", journey, "hello"),
    ):
        assert client.get(url).status_code == 200, url
    builder = client.get(_url("journey", journey)).content.decode()
    assert "Publish…" in builder and 'class="jr-add"' in builder
    assert 'data-step="hello"' in builder and "Draft, not published yet." in builder


def test_a_viewer_reads_without_controls_and_every_write_is_refused(viewer, journey):
    builder = viewer.get(_url("journey", journey))
    assert builder.status_code == 200
    body = builder.content.decode()
    assert 'data-step="pause"' in body
    assert "Publish…" not in body and 'class="jr-add"' not in body
    panel = viewer.get(_url("journey", journey) + "?step=hello").content.decode()
    assert "Save step" not in panel and "disabled" in panel
    assert "New journey" not in viewer.get(LIST).content.decode()
    assert viewer.get(NEW).status_code == 403
    before = journey.draft
    for url, data in (
        (NEW, {"name": "x"}),
        (_url("journey_step", journey, "hello"), {"name": "x"}),
        (_url("journey_step_add", journey), {"after": "hello", "type": "exit"}),
        (_url("journey_step_remove", journey, "pause"), {}),
        (_url("journey_publish", journey), {}),
        (_url("journey_pause", journey), {}),
        (_url("journey_archive", journey), {}),
    ):
        assert viewer.post(url, data).status_code == 403, url
    journey.refresh_from_db()
    assert journey.draft == before and journey.status == JourneyStatus.DRAFT


def test_support_may_not_open_the_journeys(client_as, journey):
    client = client_as("support")
    assert client.get(LIST).status_code == 403
    assert client.get(_url("journey", journey)).status_code == 403


# --- New journey -----------------------------------------------------------------------------
def _new_form(**extra):
    data = {
        "name": "Cart",
        "trigger": "event",
        "event": "cart_abandoned",
        "event_filters": "",
        "entry_policy": "one_active",
        "entry_key": "cart_id",
        "goal": "order",
        "goal_window_0": "3",
        "goal_window_1": "86400",
        "exit_opted_out": "on",
        "per_customer_per_day": "0",
        "sends_per_hour": "0",
    }
    data.update(extra)
    return data


def test_a_new_journey_is_created_from_its_form(client_as):
    response = client_as("marketing").post(NEW, _new_form())
    journey = Journey.objects.get(name="Cart")
    assert response.status_code == 302 and response.url == _url("journey", journey)
    assert journey.draft["trigger"] == {"kind": "event", "event": "cart_abandoned", "filters": {}}
    assert journey.draft["entry"]["key"] == "cart_id"
    assert journey.draft["goal"]["window_seconds"] == 3 * 86400
    assert journey.draft["steps"] == []


def test_a_bad_new_journey_form_shows_field_errors_and_creates_nothing(client_as):
    client = client_as("marketing")
    response = client.post(
        NEW, _new_form(event="", entry_policy="cooldown", event_filters="{not json")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Not valid JSON" in body
    response = client.post(NEW, _new_form(event=""))
    assert "Name the event that starts the journey." in response.content.decode()
    response = client.post(NEW, _new_form(entry_policy="cooldown"))
    assert response.status_code == 400
    assert "Set the cooldown for this policy." in response.content.decode()
    assert not Journey.objects.exists()


def test_settings_change_the_name_and_trigger_but_keep_the_steps(client_as, journey):
    client = client_as("marketing")
    response = client.post(
        _url("journey_settings", journey), _new_form(name="Welcome 2", event="registered")
    )
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.name == "Welcome 2"
    assert journey.draft["trigger"]["event"] == "registered"
    assert [s["id"] for s in journey.draft["steps"]] == ["hello", "pause", "done"]


# --- Steps -----------------------------------------------------------------------------------
def test_a_step_is_added_changed_and_removed_through_the_forms(client_as, journey, gift):
    client = client_as("marketing")
    add = _url("journey_step_add", journey)
    chooser = client.get(add, {"after": "pause"}, headers={"HX-Request": "true"})
    body = chooser.content.decode()
    assert chooser.status_code == 200 and "<html" not in body
    assert 'name="type"' in body and "Add a step after" in body
    form = client.get(add, {"after": "pause", "label": "next", "type": "send"})
    assert 'name="template"' in form.content.decode()

    response = client.post(
        add,
        {
            "after": "pause",
            "label": "next",
            "type": "send",
            "template": gift.pk,
            "channel": "sms",
            "on_unreachable": "exit",
            "name": "Reminder",
        },
    )
    assert response.status_code == 302
    steps = _draft(journey)
    assert steps["pause"]["next"] == "send-1"
    assert steps["send-1"]["next"] == "done"  # what the way led to follows the new step
    assert steps["send-1"]["channel"] == "sms" and steps["send-1"]["name"] == "Reminder"
    assert "send-1" in response.url

    edit = _url("journey_step", journey, "send-1")
    panel = client.get(edit, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel and "Save step" in panel and 'value="Reminder"' in panel
    response = client.post(
        edit,
        {
            "template": gift.pk,
            "channel": "best",
            "on_unreachable": "continue",
            "next": "done",
            "unreachable_step": "",
            "name": "Second reminder",
            "max_visits": "2",
        },
    )
    assert response.status_code == 302
    steps = _draft(journey)
    assert steps["send-1"]["channel"] == "best"
    assert steps["send-1"]["name"] == "Second reminder" and steps["send-1"]["max_visits"] == 2

    response = client.post(_url("journey_step_remove", journey, "send-1"))
    assert response.status_code == 302
    steps = _draft(journey)
    assert "send-1" not in steps and steps["pause"]["next"] == "done"


def test_an_action_step_is_added_and_opened_again_in_its_form(client_as, journey):
    client = client_as("marketing")
    response = client.post(
        _url("journey_step_add", journey),
        {"after": "pause", "label": "next", "type": "action", "action": "points_award",
         "points": "150", "name": "Bonus"},
    )  # fmt: skip
    assert response.status_code == 302
    steps = _draft(journey)
    assert steps["action-1"]["points"] == 150 and steps["action-1"]["next"] == "done"
    panel = client.get(_url("journey_step", journey, "action-1"), headers={"HX-Request": "true"})
    assert panel.status_code == 200 and 'value="150"' in panel.content.decode()


def test_a_wait_for_outcomes_is_written_from_its_rows(client_as, journey):
    client = client_as("marketing")
    response = client.post(
        _url("journey_step_add", journey),
        {
            "after": "hello",
            "label": "next",
            "type": "wait",
            "mode": "outcomes",
            "timeout_seconds_0": "2",
            "timeout_seconds_1": "86400",
            "o1_name": "opened",
            "o1_kind": "message",
            "o1_status": "opened",
            "o1_step": "hello",
            "o2_name": "bought",
            "o2_kind": "order",
            "o2_match": '{"promo_code": "context.promo_code"}',
        },
    )
    assert response.status_code == 302
    wait = _draft(journey)["wait-1"]
    assert wait["timeout_seconds"] == 2 * 86400
    assert [o["name"] for o in wait["outcomes"]] == ["opened", "bought"]
    assert wait["outcomes"][0]["step"] == "hello"
    assert wait["outcomes"][1]["match"] == {"promo_code": "context.promo_code"}
    assert wait["timeout_next"] == "pause"  # the way it was inserted on continues on timeout


def test_a_bad_step_form_shows_its_field_errors_and_changes_nothing(client_as, journey):
    client = client_as("marketing")
    before = _draft(journey)
    response = client.post(
        _url("journey_step", journey, "pause"),
        {"mode": "duration", "seconds_0": "", "seconds_1": "3600", "next": "done"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Set how long to wait." in body and "has-error" in body
    response = client.post(
        _url("journey_step_add", journey),
        {
            "after": "hello",
            "label": "next",
            "type": "split",
            "a1_name": "a",
            "a1_percent": "50",
            "a2_name": "b",
            "a2_percent": "20",
            "holdout_percent": "0",
            "mode": "random",
        },
    )
    assert response.status_code == 400
    assert "The arms and the holdout must add up to 100 %." in response.content.decode()
    response = client.post(
        _url("journey_step_add", journey),
        {"after": "hello", "label": "next", "type": "action", "action": "promo_issue"},
    )
    assert response.status_code == 400
    assert "Required for this action." in response.content.decode()
    assert _draft(journey) == before


# --- Publishing ------------------------------------------------------------------------------
def test_publishing_with_problems_shows_them_and_publishes_nothing(client_as, journey):
    client = client_as("marketing")
    # A wait for an outcome without a timeout: the checks refuse it.
    client.post(
        _url("journey_step", journey, "pause"),
        {"mode": "outcomes", "o1_name": "opened", "o1_kind": "message", "o1_status": "opened"},
    )
    assert _draft(journey)["pause"]["mode"] == "outcomes"
    page = client.get(_url("journey_publish", journey)).content.decode()
    assert "Fix these before publishing" in page and "<code>pause</code>" in page
    response = client.post(_url("journey_publish", journey), {"note": "first"})
    assert response.status_code == 400
    assert "Not published: fix these first" in response.content.decode()
    journey.refresh_from_db()
    assert journey.live_version is None and not journey.versions.exists()
    builder = client.get(_url("journey", journey)).content.decode()
    assert "has-problem" in builder


def test_publishing_a_clean_draft_then_changes_show_as_unpublished(client_as, journey):
    client = client_as("marketing")
    response = client.post(_url("journey_publish", journey), {"note": "first"})
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.LIVE and journey.live_version.number == 1
    client.post(
        _url("journey_step", journey, "pause"),
        {"mode": "duration", "seconds_0": "2", "seconds_1": "3600", "next": "done"},
    )
    builder = client.get(_url("journey", journey)).content.decode()
    assert "Draft has unpublished changes." in builder and "Version 1" in builder
    version = client.get(_url("journey_version", journey, 1))
    assert version.status_code == 200
    body = version.content.decode()
    assert 'data-step="pause"' in body and "jr-node-link" not in body  # read-only
    assert client.post(_url("journey_pause", journey)).status_code == 302
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.PAUSED


def test_open_runs_on_the_live_version_get_a_mapping_select(client_as, journey):
    journey_publish(journey=journey)
    journey.refresh_from_db()
    Enrollment.objects.create(
        journey=journey,
        version=journey.live_version,
        customer=customer(),
        step="pause",
        state="waiting",
    )
    page = client_as("marketing").get(_url("journey_publish", journey)).content.decode()
    assert 'name="map_pause"' in page and "Stay on the old version" in page


# --- Dry run and the customer page -----------------------------------------------------------
def test_the_dry_run_shows_the_path_with_the_rendered_message(client_as, journey):
    person = customer(email="ann@example.com", first_name="Ann")
    page = client_as("marketing").get(_url("journey_dry_run", journey), {"q": person.email})
    body = page.content.decode()
    assert page.status_code == 200
    assert '<code class="muted">hello</code>' in body
    assert "Ann, a gift" in body


def test_the_customer_page_lists_their_journeys(client_as, journey):
    journey_publish(journey=journey)
    journey.refresh_from_db()
    person = customer()
    Enrollment.objects.create(
        journey=journey,
        version=journey.live_version,
        customer=person,
        step="pause",
        state="waiting",
    )
    page = client_as("support").get(reverse("workspace:customer", args=[person.external_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "jr-customer" in body and "Welcome" in body and "at pause" in body
