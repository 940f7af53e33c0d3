"""In a real browser (fails on any CSP violation): a marketer makes a journey map, edits a board
cell in place, and the board prints without the workspace around it."""

import pytest

from campaigns.planning.models import CjmCell, CustomerJourneyMap

pytestmark = pytest.mark.django_db(transaction=True)


def test_marketer_makes_a_map_and_edits_a_cell_in_place(signed_in_page, live_server):
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/cjm/")
    page.click("text=New map")
    page.fill("#id_name", "Shop")
    page.fill("#id_offline_channels", "Store")
    page.click("button:has-text('Create map')")
    page.wait_for_selector("text=Map “Shop” created.")
    cjm = CustomerJourneyMap.objects.get()
    cell = page.locator("tr.cjm-field-barriers td").first
    cell.hover()
    cell.locator("a.cjm-edit").click()
    page.locator("tr.cjm-field-barriers textarea").fill("Too many forms")
    page.locator("tr.cjm-field-barriers button[type=submit]").click()
    page.locator("tr.cjm-field-barriers td").first.get_by_text("Too many forms").wait_for()
    assert page.url == f"{live_server.url}/app/campaigns/cjm/{cjm.pk}/"  # no page load
    assert CjmCell.objects.get(stage__position=0, channel="email").barriers == "Too many forms"
    page.emulate_media(media="print")
    assert not page.locator(".sidebar").is_visible()
    assert not page.locator(".cjm-edit").first.is_visible()
    assert page.locator(".cjm-board").is_visible()
