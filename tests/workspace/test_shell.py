"""The workspace shell: sign-in, roles, navigation, language, time zone and the security policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from workspace.roles import ADMIN, MARKETING, PERMISSIONS, ROLE_PERMISSIONS, SUPPORT, roles_sync

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def test_root_redirects_to_the_workspace(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/app/"


def test_a_visitor_is_sent_to_sign_in_and_back(client):
    response = client.get("/app/")
    assert response.status_code == 302
    assert response["Location"] == "/app/login/?next=/app/"


def test_staff_sign_in_through_the_form_lands_on_home(client, staff_user):
    user = staff_user(SUPPORT)
    response = client.post(
        "/app/login/", {"username": user.username, "password": "pw-Kaskad-2026"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/app/"
    assert b"<h1>" in response.content


def test_a_wrong_password_is_a_form_error_not_a_crash(client, staff_user):
    user = staff_user(SUPPORT)
    response = client.post("/app/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_roles_are_groups_with_exactly_their_permissions():
    roles_sync()
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = set(group.permissions.values_list("codename", flat=True))
        assert held == codenames
    assert ROLE_PERMISSIONS[ADMIN] == {c for c, _d in PERMISSIONS}
    assert "erase_customer" not in ROLE_PERMISSIONS[MARKETING]
    assert "manage_api_keys" not in ROLE_PERMISSIONS[MARKETING]
    assert "manage_segments" not in ROLE_PERMISSIONS[SUPPORT]


def test_roles_sync_takes_back_a_permission_a_role_no_longer_has():
    roles_sync()
    group = Group.objects.get(name=SUPPORT)
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="manage_api_keys"))
    roles_sync()
    assert not group.permissions.filter(codename="manage_api_keys").exists()


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            SUPPORT,
            {"home", "inbox", "customers", "segments", "messages"},
            {"settings", "rfm", "campaigns", "analytics"},
        ),
        (
            MARKETING,
            {"home", "customers", "segments", "rfm", "campaigns", "analytics", "messages"},
            {"inbox", "settings"},
        ),
        (
            ADMIN,
            {
                "home",
                "inbox",
                "customers",
                "segments",
                "rfm",
                "campaigns",
                "analytics",
                "messages",
                "settings",
            },
            set(),
        ),
    ],
)
def test_the_navigation_shows_each_role_its_areas(client_as, role, shown, hidden):
    from django.urls import NoReverseMatch, reverse

    from workspace.nav import NAV

    html = client_as(role).get("/app/").content.decode()
    nav = html.split('<nav class="sidebar"', 1)[1].split("</nav>", 1)[0]
    linked = set(re.findall(r'<a href="([^"]+)"', nav))
    for item in NAV:
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # an area whose pages are not installed
        assert (url in linked) == (item.key in shown), item.key
        assert not (item.key in hidden and url in linked)


def test_every_workspace_page_sends_the_content_security_policy(client_as):
    response = client_as(ADMIN).get("/app/")
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    login = client_as(ADMIN).get("/app/login/")
    assert login["Content-Security-Policy"].startswith("default-src 'self'")


INLINE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"\sstyle=[\"']", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=[\"']", re.I), "on* handler"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on"),
    (re.compile(r"hx-trigger=\"[^\"]*\[", re.I), "htmx trigger filter (needs eval)"),
]


def _workspace_templates():
    for folder in ROOT.glob("*/templates"):
        if folder.parent.name in {"templates"}:
            continue
        yield from folder.rglob("*.html")
    for path in (ROOT / "templates").rglob("*.html"):
        if "admin" not in path.relative_to(ROOT / "templates").parts:
            yield path


def test_no_template_needs_more_than_default_src_self():
    """The policy allows no inline script, style or handler, so no template may use one."""
    problems = []
    for path in _workspace_templates():
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                problems.append(f"{path.relative_to(ROOT)}: {what}: {match.group(0)[:60]}")
    assert not problems, "\n".join(problems)


def test_the_language_choice_is_remembered_on_the_profile(client, staff_user):
    user = staff_user(SUPPORT)
    client.force_login(user)
    response = client.post("/app/preferences/", {"language": "ru", "next": "/app/"})
    assert response.status_code == 302
    user.staff_profile.refresh_from_db()
    assert user.staff_profile.language == "ru"
    # Another browser (no cookie) signed in as the same person gets Russian.
    from django.test import Client

    other = Client()
    other.force_login(user)
    html = other.get("/app/").content.decode()
    assert '<html lang="ru">' in html
    assert "Сегодня" in html


def test_an_unknown_time_zone_is_refused_with_a_message(client, staff_user):
    user = staff_user(SUPPORT)
    client.force_login(user)
    response = client.post(
        "/app/preferences/", {"time_zone": "Mars/Olympus", "next": "/app/"}, follow=True
    )
    assert "Mars/Olympus" in response.content.decode()
    assert not hasattr(user, "staff_profile") or user.staff_profile.time_zone == ""


def test_an_outside_next_address_is_not_followed(client, staff_user):
    client.force_login(staff_user(SUPPORT))
    response = client.post("/app/preferences/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/app/"
