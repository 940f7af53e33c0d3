"""The recommendations page in Chromium: no policy violation, the lookup works from the keyboard."""

import pytest

from campaigns.recommendations.services import recommendations_refresh
from tests.campaigns.recommendation_data import make_shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_lookup_from_the_keyboard_shows_the_picks(signed_in_page, live_server):
    make_shop()
    recommendations_refresh()
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/recommendations/")
    page.fill("#recs-customer", "alice")
    page.press("#recs-customer", "Enter")
    page.wait_for_selector("text=Viewed, not bought")
    assert page.locator(".recs-list a[href='https://shop.example/a3']").count() == 2
    page.goto(f"{live_server.url}/app/customers/alice/")
    assert page.locator("#recs-panel-title").is_visible()
