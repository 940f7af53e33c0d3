"""Settings → API keys (shown once, revoked keys refused by the API) and Users (roles, never
deleted)."""

import re

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from api.models import ApiKey, AuditAction, AuditEntry, hash_api_key

pytestmark = pytest.mark.django_db


def _create_key(client, **data) -> tuple[str, str]:
    response = client.post(
        "/app/settings/api-keys/new/", {"name": "amoCRM sync", "scopes": ["read"], **data}
    )
    assert response.status_code == 200
    html = response.content.decode()
    return html, re.search(r"kk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}", html).group(0)


def test_a_key_is_shown_once_stored_as_a_hash_and_audited(client_as):
    client = client_as("admin")
    _html, raw_key = _create_key(client, scopes=["read", "messages:send"])
    key = ApiKey.objects.get()
    assert key.key_hash == hash_api_key(raw_key) and raw_key not in key.key_hash
    assert key.scopes == ["read", "messages:send"]
    listing = client.get("/app/settings/api-keys/").content.decode()
    assert raw_key not in listing and f"kk_{key.prefix}_" in listing
    entry = AuditEntry.objects.get(action=AuditAction.API_KEY_CREATED)
    assert entry.after["prefix"] == key.prefix and raw_key not in str(entry.after)


def test_the_new_key_works_and_after_revoking_the_api_refuses_it(client_as):
    client = client_as("admin")
    _html, raw_key = _create_key(client)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert api.get("/api/v1/customers").status_code == 200
    key = ApiKey.objects.get()
    assert client.post(f"/app/settings/api-keys/{key.pk}/revoke/").status_code == 302
    response = api.get("/api/v1/customers")
    assert response.status_code == 401 and "revoked" in response.json()["message"]
    entry = AuditEntry.objects.get(action=AuditAction.API_KEY_REVOKED)
    assert entry.object_id == str(key.pk) and entry.after["revoked_at"]
    # A second revoke changes nothing and logs nothing.
    client.post(f"/app/settings/api-keys/{key.pk}/revoke/")
    assert AuditEntry.objects.filter(action=AuditAction.API_KEY_REVOKED).count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "  "}, "name"), ({"scopes": []}, "scopes"), ({"scopes": ["root"]}, "scopes")],
)
def test_a_bad_key_request_is_a_form_error(client_as, data, field):
    response = client_as("admin").post(
        "/app/settings/api-keys/new/", {"name": "x", "scopes": ["read"], **data}
    )
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_revoke_needs_a_post(client_as):
    client = client_as("admin")
    _create_key(client)
    key = ApiKey.objects.get()
    assert client.get(f"/app/settings/api-keys/{key.pk}/revoke/").status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


USER = {
    "username": "olga",
    "email": "olga@example.com",
    "role": "support",
    "password": "Ulitka-Sinyaya-42",
}


def test_an_admin_creates_a_user_who_can_sign_in(client_as, client):
    admin_client = client_as("admin")
    assert admin_client.post("/app/settings/users/new/", USER).status_code == 302
    user = User.objects.get(username="olga")
    assert [g.name for g in user.groups.all()] == ["support"] and user.check_password(
        USER["password"]
    )
    entry = AuditEntry.objects.get(object_type="user")
    assert entry.after == {
        "username": "olga",
        "email": "olga@example.com",
        "role": "support",
        "is_active": True,
    }
    assert "Ulitka" not in str(entry.after)
    client.logout()
    response = client.post("/app/login/", {"username": "olga", "password": USER["password"]})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"password": "123"}, "password"),
        ({"email": "nope"}, "email"),
        ({"username": "bad name!"}, "username"),
        ({"role": "root"}, "role"),
    ],
)
def test_a_bad_new_user_is_a_form_error(client_as, data, field):
    response = client_as("admin").post("/app/settings/users/new/", {**USER, **data})
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not User.objects.filter(username="olga").exists()


def test_a_taken_username_is_a_form_error(client_as, staff_user):
    staff_user("support", username="olga")
    response = client_as("admin").post("/app/settings/users/new/", USER)
    assert "username" in response.context["form"].errors


def test_role_change_lead_permission_and_deactivation_are_audited(client_as, staff_user):
    target = staff_user("support", username="ivan")
    client = client_as("admin")
    response = client.post(
        f"/app/settings/users/{target.pk}/",
        {"role": "support", "is_active": "on", "permissions": ["manage_canned"]},
    )
    assert response.status_code == 302
    target = User.objects.get(pk=target.pk)
    assert target.has_perm("workspace.manage_canned") and not target.has_perm("workspace.view_rfm")

    client.post(
        f"/app/settings/users/{target.pk}/", {"role": "marketing", "permissions": ["manage_canned"]}
    )
    target = User.objects.get(pk=target.pk)
    assert [g.name for g in target.groups.all()] == ["marketing"] and not target.is_active
    entries = list(AuditEntry.objects.filter(object_type="user").order_by("pk"))
    assert entries[0].before == {"permissions": []} and entries[0].after == {
        "permissions": ["manage_canned"]
    }
    assert entries[1].before == {"role": "support", "is_active": True}
    assert entries[1].after == {"role": "marketing", "is_active": False}
    assert User.objects.filter(pk=target.pk).exists()  # deactivated, never deleted


def test_a_deactivated_user_is_signed_out_of_the_workspace(client, staff_user):
    target = staff_user("support", username="ivan")
    client.force_login(target)
    target.is_active = False
    target.save()
    assert client.get("/app/").status_code == 302


def test_an_admin_cannot_demote_or_deactivate_themselves(client, staff_user):
    admin = staff_user("admin")
    client.force_login(admin)
    response = client.post(
        f"/app/settings/users/{admin.pk}/", {"role": "support", "is_active": "on"}
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    response = client.post(f"/app/settings/users/{admin.pk}/", {"role": "admin"})
    assert response.status_code == 200
    admin.refresh_from_db()
    assert admin.is_active and admin.groups.filter(name="admin").exists()
    assert not AuditEntry.objects.exists()


def test_the_users_tab_lists_roles(client_as, staff_user):
    staff_user("marketing", username="maria")
    html = client_as("admin").get("/app/settings/users/").content.decode()
    assert "maria" in html and "Marketing" in html


def test_a_user_without_a_password_gets_a_set_password_link_once(client_as, client):
    admin_client = client_as("admin")
    response = admin_client.post("/app/settings/users/new/", {**USER, "password": ""})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    link = re.search(r"http://testserver(/app/password/[^<\s]+)", response.content.decode()).group(
        1
    )
    user = User.objects.get(username="olga")
    assert not user.has_usable_password()
    actions = list(AuditEntry.objects.filter(object_type="user").values_list("after", flat=True))
    assert actions[-1] == {"set_password_link": "issued"}

    client.logout()
    page = client.get(link, follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    set_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    response = client.post(
        set_url, {"new_password1": "Ulitka-Sinyaya-42", "new_password2": "Ulitka-Sinyaya-42"}
    )
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200  # signed in
    user.refresh_from_db()
    assert user.check_password("Ulitka-Sinyaya-42")
    client.logout()
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_an_admin_makes_a_new_password_link_for_a_colleague(client_as, staff_user):
    target = staff_user("support", username="ivan")
    response = client_as("admin").post(f"/app/settings/users/{target.pk}/password-link/")
    assert response.status_code == 200 and "/app/password/" in response.content.decode()
    assert (
        client_as("support").post(f"/app/settings/users/{target.pk}/password-link/").status_code
        == 403
    )
