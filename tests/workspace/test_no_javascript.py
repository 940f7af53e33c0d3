"""Read-only pages work with JavaScript off: sign in through the form, then open every plain page."""

import pytest

from tests.conftest import CHROMIUM  # noqa: F401  (the browser fixture skips without it)
from tests.workspace.test_role_matrix import OPEN, _plain_pages

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_plain_page_renders_with_javascript_off(browser, live_server, staff_user):
    user = staff_user("admin")
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/app/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-Kaskad-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/app/")
        broken = []
        for name, path in _plain_pages():
            if name in OPEN:
                continue
            response = page.goto(live_server.url + path)
            if response.status == 405:
                continue  # an action, not a page
            if "<html" not in response.text().lower():
                continue  # a fragment that htmx swaps into a page
            if response.status != 200 or page.locator("h1").count() == 0:
                broken.append(f"{path}: {response.status}")
        assert not broken, broken
    finally:
        context.close()
