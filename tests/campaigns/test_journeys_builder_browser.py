"""In a real browser (fails on any CSP violation): the builder draws the journey, a click on a
node loads its form into the side panel, "+" adds a step after it, and a wait's fields follow
its mode."""

import pytest

from campaigns.journeys.models import Journey
from campaigns.journeys.services.authoring import journey_create
from tests.campaigns.journey_data import template

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_builder_opens_a_step_and_adds_one_after_it(signed_in_page, live_server):
    gift = template()
    journey = journey_create(
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
                    "next": "done",
                },
                {"id": "done", "type": "exit"},
            ],
        },
    )
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/journeys/")
    page.click("text=Welcome")
    page.wait_for_selector("svg.jr-graph")
    assert page.locator(".jr-node").count() == 2

    # A click on the node loads its form into the panel, in place.
    page.click('.jr-node[data-step="hello"] .jr-node-link')
    page.locator("#jr-panel form.jr-step-form").wait_for()
    assert page.locator("#jr-panel input[name=name]").input_value() == "Hello"
    assert "?step=" not in page.url  # loaded by HTMX, not a new page

    # "+" on the node: choose the way out and the kind, then fill the wait's form.
    page.click('.jr-node[data-step="hello"] .jr-add')
    page.locator("#jr-panel .jr-chooser").wait_for()
    page.check("#jr-panel input[name=type][value=wait]")
    page.click("#jr-panel .jr-chooser button[type=submit]")
    form = page.locator("#jr-panel form.jr-new-step")
    form.wait_for()
    form.locator("select[name=mode]").select_option("duration")
    assert not form.locator("select[name=timeout_seconds_1]").is_visible()
    form.locator("input[name=seconds_0]").fill("2")
    form.locator("select[name=seconds_1]").select_option("86400")
    form.locator("button[type=submit]").click()
    page.wait_for_selector('.jr-node[data-step="wait-1"]')

    journey = Journey.objects.get(pk=journey.pk)
    steps = {s["id"]: s for s in journey.draft["steps"]}
    assert steps["hello"]["next"] == "wait-1"
    assert steps["wait-1"] == {**steps["wait-1"], "seconds": 2 * 86400, "next": "done"}
    assert page.locator(".jr-node").count() == 3
    assert page.locator(".flash-success").count() == 1
