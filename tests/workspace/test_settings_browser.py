"""The admin's job end to end in Chromium: create an API key, see it once, revoke it."""

import re

import pytest
from rest_framework.test import APIClient

from api.models import ApiKey

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_an_api_key_sees_it_once_and_revokes_it(signed_in_page, live_server):
    page = signed_in_page("admin")
    page.click("nav.sidebar >> text=Settings")
    page.click("nav.tabs >> text=API keys")
    page.click("text=New API key")
    page.fill("#id_name", "Shop sync")
    page.check("input[name=scopes][value=read]")
    page.click("button:has-text('Create key')")

    raw_key = page.inner_text("[data-api-key]").strip()
    assert re.fullmatch(r"kk_[0-9a-f]{8}_\S+", raw_key)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert api.get("/api/v1/customers").status_code == 200

    page.click("text=Done, I copied it")
    row = page.locator("tr", has_text="Shop sync")
    assert raw_key not in page.content()
    row.locator("summary", has_text="Revoke").click()
    row.locator("button[type=submit]", has_text="Revoke").click()
    page.wait_for_selector("text=is revoked")
    assert "revoked" in page.locator("tr", has_text="Shop sync").inner_text()
    assert ApiKey.objects.get().revoked_at is not None
    assert api.get("/api/v1/customers").status_code == 401
