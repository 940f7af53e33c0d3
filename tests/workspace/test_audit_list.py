"""The audit log list (/app/audit/): admins only, filterable, paged with a cursor."""

import datetime

import pytest
from django.utils import timezone

from api.audit import audit_record
from api.models import AuditAction, AuditEntry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("marketing", 403), ("support", 403)])
def test_only_admins_see_the_audit_log(client_as, role, status):
    assert client_as(role).get("/app/audit/").status_code == status


def test_a_row_shows_who_when_what_object_diff_reason_and_ip(client_as, staff_user):
    agent = staff_user("support", username="anna")
    customer = CustomerFactory(external_id="crm-77")
    audit_record(
        actor=agent,
        action=AuditAction.CONSENT_CHANGED,
        object_type="customer",
        object_id="crm-77",
        object_repr="Ivan Petrov",
        customer_id=customer.pk,
        before={"sms": "opted_in"},
        after={"sms": "opted_out"},
        reason="asked on the phone",
        ip_address="10.1.2.3",
    )
    html = client_as("admin").get("/app/audit/").content.decode()
    for text in (
        "anna",
        "consent changed",
        "Ivan Petrov",
        "crm-77",
        "opted_in",
        "opted_out",
        "asked on the phone",
        "10.1.2.3",
    ):
        assert text in html, text


def test_filters_by_actor_action_customer_and_dates(client_as, staff_user):
    anna, boris = staff_user("support", username="anna"), staff_user("admin", username="boris")
    customer = CustomerFactory(external_id="crm-1")
    audit_record(
        actor=anna,
        action=AuditAction.NOTE_ADDED,
        object_type="customer",
        object_repr="note-by-anna",
        customer_id=customer.pk,
    )
    audit_record(
        actor=boris,
        action=AuditAction.API_KEY_CREATED,
        object_type="api_key",
        object_repr="key-by-boris",
    )
    audit_record(
        actor=boris,
        action=AuditAction.SETTINGS_CHANGED,
        object_type="delivery_settings",
        object_repr="old-change",
    )
    # Entries are only inserted; one dated 40 days ago is inserted as such.
    AuditEntry.objects.create(
        occurred_at=timezone.now() - datetime.timedelta(days=40),
        actor=boris,
        actor_name="boris",
        action=AuditAction.USER_CHANGED,
        object_type="user",
        object_repr="long-ago",
    )
    client = client_as("admin")

    def shown(query):
        html = client.get(f"/app/audit/?{query}").content.decode()
        return {r for r in ("note-by-anna", "key-by-boris", "old-change", "long-ago") if r in html}

    assert shown("actor=anna") == {"note-by-anna"}
    assert shown("action=api_key.created") == {"key-by-boris"}
    assert shown("customer=crm-1") == {"note-by-anna"}
    assert shown("customer=nobody") == set()
    since = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()
    assert "long-ago" not in shown(f"since={since}")
    until = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    assert shown(f"until={until}") == {"long-ago"}


def test_a_bad_filter_is_a_form_error_not_a_crash(client_as):
    response = client_as("admin").get("/app/audit/?since=2026-13-45&action=nope")
    assert response.status_code == 200
    assert response.context["form"].errors
    response = client_as("admin").get("/app/audit/?since=2026-05-02&until=2026-05-01")
    assert "until" in response.context["form"].errors


def test_the_list_pages_with_a_cursor(client_as, staff_user):
    actor = staff_user("admin", username="root")
    for i in range(60):
        audit_record(
            actor=actor,
            action=AuditAction.NOTE_ADDED,
            object_type="x",
            object_repr=f"entry-{i:02d}",
        )
    client = client_as("admin")
    first = client.get("/app/audit/").content.decode()
    assert "entry-59" in first and "entry-09" not in first and "Show more" in first
    cursor = first.split('href="/app/audit/?before=', 1)[1].split('"', 1)[0]
    second = client.get(f"/app/audit/?before={cursor}").content.decode()
    assert "entry-09" in second and "entry-59" not in second and "Show more" not in second
