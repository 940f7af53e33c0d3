"""Password guessing on the admin login is throttled by django-axes, per username and address;
API keys never go through it."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db, settings):
    # Each attempt hashes a password; the production hasher would make these tests slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_user(
        username="olga", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(client, password, address="203.0.113.7"):
    return client.post(
        LOGIN, {"username": "olga", "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def test_wrong_passwords_below_the_limit_only_show_the_form_again(client, staff, settings):
    statuses = [log_in(client, "guess").status_code for _ in range(settings.AXES_FAILURE_LIMIT - 1)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302


def test_the_nth_wrong_password_locks_out_even_the_right_one(client, staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    statuses = [log_in(client, "guess").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # still not logged in


def test_the_lockout_is_per_address_so_a_guesser_cannot_lock_staff_out(client, staff):
    for _ in range(5):
        log_in(client, "guess", address="198.51.100.66")
    assert log_in(client, PASSWORD, address="203.0.113.7").status_code == 302


def test_after_the_cool_off_the_right_password_logs_in(client, staff, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(5):
        log_in(client, "guess")
    assert log_in(client, PASSWORD).status_code == 429
    time.sleep(1.2)
    assert log_in(client, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_api_keys_work_from_an_address_that_is_locked_out_of_the_admin(client, staff, api):
    for _ in range(5):
        log_in(client, "guess", address="127.0.0.1")
    assert log_in(client, PASSWORD, address="127.0.0.1").status_code == 429
    assert api.get("/api/v1/customers", REMOTE_ADDR="127.0.0.1").status_code == 200
    response = api.post("/api/v1/customers/batch", {"items": [{"external_id": "crm-1"}]})
    assert response.status_code in (200, 201)
