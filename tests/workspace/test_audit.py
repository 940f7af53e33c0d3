"""The audit log only grows: nothing can change or remove an entry."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from api.audit import audit_record
from api.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def test_an_entry_records_who_what_and_the_change(staff_user):
    user = staff_user("support")
    entry = audit_record(
        actor=user,
        action=AuditAction.CONSENT_CHANGED,
        object_type="customer",
        object_id="crm-1",
        object_repr="Ivan Petrov",
        customer_id=7,
        before={"sms": "opted_in"},
        after={"sms": "opted_out"},
        reason="asked on the phone",
    )
    entry.refresh_from_db()
    assert entry.actor_name == user.username
    assert entry.before == {"sms": "opted_in"} and entry.after == {"sms": "opted_out"}


def test_an_entry_cannot_be_changed_or_deleted(staff_user):
    entry = audit_record(actor=staff_user("admin"), action="api_key.created", object_type="api_key")
    entry.reason = "rewritten"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().update(reason="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's"
)
def test_the_database_refuses_to_change_the_log(staff_user):
    audit_record(actor=staff_user("admin"), action="api_key.created", object_type="api_key")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE api_auditentry SET reason = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM api_auditentry")


def test_staff_who_acted_cannot_be_deleted_only_deactivated(staff_user):
    from django.db.models import ProtectedError

    user = staff_user("admin")
    audit_record(actor=user, action="api_key.created", object_type="api_key")
    with pytest.raises(ProtectedError):
        user.delete()
