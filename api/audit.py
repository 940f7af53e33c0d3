"""The audit log of staff actions: `audit_record` is the only way in (api.models.AuditEntry)."""

from typing import Any

from api.models import AuditAction, AuditEntry


def audit_record(
    *,
    actor,
    action: AuditAction | str,
    object_type: str,
    object_id: Any = "",
    object_repr: str = "",
    customer_id: int | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the action's own transaction, so both land or neither.

    `actor` is the staff user (None for the system). `before`/`after` hold only the fields the
    action changed, never a whole record, so an erased customer's data does not linger here.
    """
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=str(action),
        object_type=object_type,
        object_id=str(object_id)[:255],
        object_repr=str(object_repr)[:255],
        customer_id=customer_id,
        before=before,
        after=after,
        reason=reason,
        ip_address=ip_address,
    )


def client_ip(request) -> str | None:
    """The address the request came from (REMOTE_ADDR; a proxy must set it, see README)."""
    return request.META.get("REMOTE_ADDR") or None
