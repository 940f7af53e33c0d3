"""Settings and the audit log are for admins: every page checks its permission per role."""

import pytest

pytestmark = pytest.mark.django_db

SETTINGS_PAGES = [
    "/app/settings/channels/",
    "/app/settings/delivery/",
    "/app/settings/auto-replies/",
    "/app/settings/auto-replies/new/",
    "/app/settings/webhooks/",
    "/app/settings/webhooks/new/",
    "/app/settings/api-keys/",
    "/app/settings/api-keys/new/",
    "/app/settings/users/",
    "/app/settings/users/new/",
    "/app/audit/",
]


@pytest.mark.parametrize("path", SETTINGS_PAGES)
def test_an_admin_opens_every_settings_page(client_as, path):
    response = client_as("admin").get(path)
    assert response.status_code == 200
    assert b'class="tabs"' in response.content


@pytest.mark.parametrize("role", ["marketing", "support"])
@pytest.mark.parametrize("path", [*SETTINGS_PAGES, "/app/settings/"])
def test_marketing_and_support_are_refused(client_as, role, path):
    assert client_as(role).get(path).status_code == 403


@pytest.mark.parametrize("role", ["marketing", "support"])
def test_marketing_and_support_have_no_settings_in_the_navigation(client_as, role):
    html = client_as(role).get("/app/").content.decode()
    assert "/app/settings/" not in html


def test_the_settings_index_opens_the_first_tab(client_as):
    response = client_as("admin").get("/app/settings/")
    assert response.status_code == 302 and response["Location"] == "/app/settings/channels/"


def test_a_user_with_only_manage_api_keys_sees_only_that_tab(client, staff_user):
    from django.contrib.auth.models import Permission

    user = staff_user("support")
    user.user_permissions.add(Permission.objects.get(codename="manage_api_keys"))
    client.force_login(user)
    response = client.get("/app/settings/")
    assert response["Location"] == "/app/settings/api-keys/"
    html = client.get("/app/settings/api-keys/").content.decode()
    assert "/app/settings/users/" not in html and "/app/settings/channels/" not in html
    assert client.get("/app/settings/users/").status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/app/settings/api-keys/1/revoke/"),
        ("post", "/app/settings/webhooks/deliveries/1/retry/"),
        ("post", "/app/settings/auto-replies/1/delete/"),
        ("post", "/app/settings/users/1/"),
    ],
)
def test_actions_are_refused_to_support(client_as, method, path):
    assert getattr(client_as("support"), method)(path).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/app/settings/channels/")
    assert response.status_code == 302 and "/app/login/" in response["Location"]
