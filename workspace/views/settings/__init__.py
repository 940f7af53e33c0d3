"""Settings for admins: channels, delivery rules, auto-replies, CRM webhooks, API keys, users.

Each tab is its own URL and module; `settings_tabs()` lists the tabs the viewer may open.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from workspace.permissions import forbidden, staff_permission_required

# (key, label, url name, permission)
TABS = [
    ("channels", _("Channels"), "workspace:settings_channels", "workspace.manage_settings"),
    ("delivery", _("Delivery"), "workspace:settings_delivery", "workspace.manage_settings"),
    (
        "autoreplies",
        _("Auto-replies"),
        "workspace:settings_autoreplies",
        "workspace.manage_settings",
    ),
    ("webhooks", _("CRM webhooks"), "workspace:settings_webhooks", "workspace.manage_settings"),
    ("api_keys", _("API keys"), "workspace:settings_api_keys", "workspace.manage_api_keys"),
    ("users", _("Users"), "workspace:settings_users", "workspace.manage_users"),
    ("audit", _("Audit log"), "workspace:audit", "workspace.view_audit"),
]


def settings_tabs(user, active: str) -> list[dict]:
    return [
        {"label": label, "url": reverse(url_name), "active": key == active}
        for key, label, url_name, permission in TABS
        if user.has_perm(permission)
    ]


def settings_context(request, tab: str, **extra) -> dict:
    return {"page": "settings", "tab": tab, "tabs": settings_tabs(request.user, tab), **extra}


@staff_permission_required("manage_settings", "manage_api_keys", "manage_users")
def settings_index(request):
    for key, _label, url_name, permission in TABS:
        if key != "audit" and request.user.has_perm(permission):
            return redirect(url_name)
    return forbidden(request)
