"""Staff actions on a customer from the workspace, each audited in its own transaction."""

from __future__ import annotations

import orjson
from django.db import transaction
from django.utils import timezone

from api.audit import audit_record
from api.models import AuditAction
from customers.models import Channel, Consent, ConsentStatus, Customer, Note
from customers.selectors import customer_export_data
from customers.services.consents import consent_set
from customers.services.gdpr import customer_erase

NOTE_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500


def _object_repr(customer: Customer) -> str:
    return f"customer {customer.external_id}"


def customer_consent_change(
    *, customer: Customer, channel: str, status: str, reason: str, actor, ip_address=None
) -> bool:
    """Set one channel's consent on an agent's word, with the reason. Returns False when the
    consent already had that status (nothing is written)."""
    if channel not in Channel.values or status not in ConsentStatus.values:
        raise ValueError("unknown channel or consent status")
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required")
    with transaction.atomic():
        before = (
            Consent.objects.select_for_update()
            .filter(customer=customer, channel=channel)
            .values_list("status", flat=True)
            .first()
            or ConsentStatus.UNKNOWN
        )
        if before == status:
            return False
        consent_set(
            customer=customer,
            channel=channel,
            status=status,
            source=f"agent:{actor.get_username()}"[:100],
        )
        audit_record(
            actor=actor,
            action=AuditAction.CONSENT_CHANGED,
            object_type="consent",
            object_id=f"{customer.pk}:{channel}",
            object_repr=f"{_object_repr(customer)}, {channel}",
            customer_id=customer.pk,
            before={"channel": channel, "status": before},
            after={"channel": channel, "status": status},
            reason=reason[:REASON_MAX_LENGTH],
            ip_address=ip_address,
        )
    return True


def customer_note_add(*, customer: Customer, body: str, actor, ip_address=None) -> Note:
    body = body.strip()
    if not body:
        raise ValueError("a note needs text")
    with transaction.atomic():
        note = Note.objects.create(
            customer=customer, author=actor, body=body[:NOTE_MAX_LENGTH], created_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action=AuditAction.NOTE_ADDED,
            object_type="note",
            object_id=note.pk,
            object_repr=_object_repr(customer),
            customer_id=customer.pk,
            after={"note": note.pk},  # the text itself stays on the note, erasable with it
            ip_address=ip_address,
        )
    return note


def customer_export(*, customer: Customer, actor, ip_address=None) -> bytes:
    """Everything held about the customer as JSON (as the API's export), the download audited."""
    with transaction.atomic():
        data = orjson.dumps(
            customer_export_data(customer=customer),
            option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME,
            default=_json_default,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_EXPORTED,
            object_type="customer",
            object_id=customer.pk,
            object_repr=_object_repr(customer),
            customer_id=customer.pk,
            ip_address=ip_address,
        )
    return data


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # Decimal


def customer_erase_by_staff(*, customer: Customer, actor, reason: str = "", ip_address=None):
    """GDPR erase (customers.services.gdpr), audited without the personal data it removes."""
    with transaction.atomic():
        customer_erase(customer=customer)
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_ERASED,
            object_type="customer",
            object_id=customer.pk,
            object_repr=f"erased customer {customer.pk}",
            customer_id=customer.pk,
            after={"erased": True},  # nothing about who it was: that is what was erased
            reason=reason.strip()[:REASON_MAX_LENGTH],
            ip_address=ip_address,
        )
    return customer
