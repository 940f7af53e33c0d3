"""In a real browser (fails on any CSP violation): create a pool, generate codes, filter them."""

import pytest

from campaigns.promo.models import PromoCode, PromoPool

pytestmark = pytest.mark.django_db(transaction=True)


def test_marketer_creates_a_pool_and_generates_codes(signed_in_page, live_server):
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/campaigns/promo/")
    page.click("text=New pool")
    page.fill("#id_name", "Spring")
    page.fill("#id_prefix", "sp-")
    page.fill("#id_low_stock_threshold", "50")
    page.click("button:has-text('Create pool')")
    pool = PromoPool.objects.get(name="Spring")
    page.fill("#id_count", "30")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("text=30 codes added.")
    assert PromoCode.objects.filter(pool=pool).count() == 30
    assert page.is_visible("text=Only 30 codes available")
    page.select_option("#id_status", "redeemed")
    page.wait_for_selector("text=No code of this pool has that status.")
