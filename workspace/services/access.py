"""Settings → API keys and Users: who may call the API and who may work in the workspace.

Each change is audited in its own transaction. Staff are deactivated, never deleted: the audit
log keeps a PROTECTed reference to everyone who acted.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.audit import audit_record
from api.models import ApiKey, AuditAction
from api.services import api_key_create, api_key_revoke
from workspace.roles import ROLES, user_roles

ROLE_NAMES = [name for name, _label in ROLES]
# The permission a support lead gets on its own, without a role's others.
SINGLE_PERMISSIONS = ("manage_canned",)


def api_key_create_audited(
    *, actor, ip: str | None, name: str, scopes: list[str]
) -> tuple[ApiKey, str]:
    """The key and its raw secret, which is shown once and never stored."""
    with transaction.atomic():
        api_key, raw_key = api_key_create(name=name, scopes=scopes)
        audit_record(
            actor=actor,
            action=AuditAction.API_KEY_CREATED,
            object_type="api_key",
            object_id=api_key.pk,
            object_repr=str(api_key),
            after={"name": api_key.name, "prefix": api_key.prefix, "scopes": api_key.scopes},
            ip_address=ip,
        )
    return api_key, raw_key


def api_key_revoke_audited(*, actor, ip: str | None, api_key: ApiKey) -> bool:
    """False if it was revoked already (nothing changes, nothing is logged)."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is not None:
            return False
        api_key_revoke(api_key=api_key)
        audit_record(
            actor=actor,
            action=AuditAction.API_KEY_REVOKED,
            object_type="api_key",
            object_id=api_key.pk,
            object_repr=str(api_key),
            before={"revoked_at": None},
            after={"revoked_at": api_key.revoked_at},
            ip_address=ip,
        )
    return True


# --- Staff users --------------------------------------------------------------------------------
def staff_role(user) -> str:
    roles = user_roles(user)
    return roles[0] if roles else ""


def _workspace_permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="workspace", codename=codename)


def staff_direct_permissions(user) -> list[str]:
    return sorted(
        user.user_permissions.filter(
            content_type__app_label="workspace", codename__in=SINGLE_PERMISSIONS
        ).values_list("codename", flat=True)
    )


def staff_user_create(
    *, actor, ip: str | None, username: str, email: str, role: str, password: str
):
    """A new active staff member in `role`, signing in with `password` (validated by the form).
    Without one the account cannot sign in until its owner sets a password through the link
    `staff_password_link` makes."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(username, email, password or None)
        user.is_staff = False  # the Django admin stays for superusers; the workspace is /app/
        user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get(name=role))
        audit_record(
            actor=actor,
            action=AuditAction.USER_CHANGED,
            object_type="user",
            object_id=user.pk,
            object_repr=username,
            after={"username": username, "email": email, "role": role, "is_active": True},
            ip_address=ip,
        )
    return user


def staff_user_update(
    *, actor, ip: str | None, user, role: str, is_active: bool, permissions: list[str]
) -> bool:
    """Set the role (the one role group), whether the account may sign in, and the single
    permissions held directly. False when nothing changed."""
    with transaction.atomic():
        before = {
            "role": staff_role(user),
            "is_active": user.is_active,
            "permissions": staff_direct_permissions(user),
        }
        wanted = {"role": role, "is_active": is_active, "permissions": sorted(permissions)}
        changed = {k: v for k, v in wanted.items() if before[k] != v}
        if not changed:
            return False
        if "role" in changed:
            user.groups.remove(*Group.objects.filter(name__in=ROLE_NAMES))
            if role:
                user.groups.add(Group.objects.get(name=role))
        if "is_active" in changed:
            user.is_active = is_active
            user.save(update_fields=["is_active"])
        if "permissions" in changed:
            for codename in SINGLE_PERMISSIONS:
                permission = _workspace_permission(codename)
                if codename in permissions:
                    user.user_permissions.add(permission)
                else:
                    user.user_permissions.remove(permission)
        audit_record(
            actor=actor,
            action=AuditAction.USER_CHANGED,
            object_type="user",
            object_id=user.pk,
            object_repr=user.get_username(),
            before={k: before[k] for k in changed},
            after=changed,
            ip_address=ip,
        )
    return True


def staff_password_link(*, actor, ip: str | None, user) -> str:
    """A path on which `user` sets a new password and is signed in. It works once (the token
    depends on the password and the last sign-in) and expires after PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        "workspace:password_set",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    audit_record(
        actor=actor,
        action=AuditAction.USER_CHANGED,
        object_type="user",
        object_id=user.pk,
        object_repr=user.get_username(),
        after={"set_password_link": "issued"},
        ip_address=ip,
    )
    return path
