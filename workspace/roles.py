"""The three staff roles and what each may do.

A role is a Django group of the same name. `roles_sync` (run after every migrate) gives each group
exactly the permissions listed here, so a release that adds a page adds its permission to the right
roles in one place. A user may also hold a single permission directly (a support lead who manages
canned responses, say) through Settings → Users.
"""

from django.db import router
from django.utils.translation import gettext_lazy as _

MARKETING = "marketing"
SUPPORT = "support"
ADMIN = "admin"
ROLES = [
    (ADMIN, _("Administrator")),
    (MARKETING, _("Marketing")),
    (SUPPORT, _("Support")),
]

# (codename, description); each is checked as "workspace.<codename>".
PERMISSIONS = [
    ("view_home", "See the home dashboard"),
    ("view_customers", "Find customers and open the customer page"),
    ("change_consent", "Change a customer's consent, with a reason"),
    ("add_note", "Add notes to customers"),
    ("export_customer", "Download a customer's data (GDPR export)"),
    ("erase_customer", "Erase a customer (GDPR)"),
    ("reply", "Send messages to a customer and reply in conversations"),
    ("view_inbox", "Work in the inbox: assign, snooze, close, notes"),
    ("manage_canned", "Manage canned responses"),
    ("view_calls", "Open the caller card"),
    ("view_segments", "See segments and their members"),
    ("manage_segments", "Create, change and delete segments"),
    ("view_rfm", "See the RFM analysis"),
    ("view_messages", "See the message log and the sandbox outbox"),
    ("view_campaigns", "See templates, broadcasts, promo codes, loyalty and recommendations"),
    ("manage_campaigns", "Create and change templates, broadcasts, promo pools and loyalty rules"),
    ("view_analytics", "See analytics: dashboards, surveys, CLV, attribution, forecasts and goals"),
    ("manage_analytics", "Create and change surveys and goals, send surveys, run forecasts"),
    ("manage_settings", "Change channel, delivery, auto-reply and webhook settings"),
    ("manage_api_keys", "Create and revoke API keys"),
    ("manage_users", "Manage staff users and their roles"),
    ("view_audit", "See the audit log of every staff action"),
]

ROLE_PERMISSIONS: dict[str, set[str]] = {
    SUPPORT: {
        "view_home",
        "view_customers",
        "change_consent",
        "add_note",
        "export_customer",
        "reply",
        "view_inbox",
        "view_calls",
        "view_segments",
        "view_messages",
    },
    MARKETING: {
        "view_home",
        "view_customers",
        "export_customer",
        "view_segments",
        "manage_segments",
        "view_rfm",
        "view_messages",
        "view_campaigns",
        "manage_campaigns",
        "view_analytics",
        "manage_analytics",
    },
    ADMIN: {codename for codename, _description in PERMISSIONS},
}


def roles_sync(*, using: str = "default") -> None:
    """Create the role groups if missing and give each exactly its permissions."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    if not router.allow_migrate_model(using, Group):
        return
    content_type, _created = ContentType.objects.db_manager(using).get_or_create(
        app_label="workspace", model="access"
    )
    by_codename = {}
    for codename, description in PERMISSIONS:
        permission, _created = Permission.objects.db_manager(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": description}
        )
        by_codename[codename] = permission
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.db_manager(using).get_or_create(name=role)
        wanted = {by_codename[c].pk for c in codenames}
        current = set(group.permissions.values_list("pk", flat=True))
        # Only workspace permissions are managed here; anything else an admin gave stays.
        managed = {p.pk for p in by_codename.values()}
        group.permissions.remove(*((current & managed) - wanted))
        group.permissions.add(*(wanted - current))


def user_roles(user) -> list[str]:
    if user.is_superuser:
        return [ADMIN]
    names = {name for name, _label in ROLES}
    return sorted(g.name for g in user.groups.all() if g.name in names)
