"""The workspace navigation as data: each area, its URL name, icon and the permission to see it.

Later apps add their areas here (Campaigns, Journeys, Analytics), in the place a user expects them.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str  # pages set ctx["page"] to this to mark the item active
    label: str
    url_name: str
    icon: str  # a symbol id in workspace/components/icons.html
    permission: str


NAV = [
    NavItem("home", _("Home"), "workspace:home", "home", "workspace.view_home"),
    NavItem("inbox", _("Inbox"), "channels:inbox", "inbox", "workspace.view_inbox"),
    NavItem(
        "customers", _("Customers"), "workspace:customers", "users", "workspace.view_customers"
    ),
    NavItem("segments", _("Segments"), "customers:segments", "layers", "workspace.view_segments"),
    NavItem("rfm", _("RFM"), "customers:rfm", "grid", "workspace.view_rfm"),
    NavItem(
        "campaigns", _("Campaigns"), "campaigns:index", "megaphone", "workspace.view_campaigns"
    ),
    NavItem("analytics", _("Analytics"), "analytics:index", "chart", "workspace.view_analytics"),
    NavItem("messages", _("Messages"), "channels:messages", "send", "workspace.view_messages"),
    NavItem(
        "settings", _("Settings"), "workspace:settings", "settings", "workspace.manage_settings"
    ),
]


def nav_for(user) -> list[dict]:
    items = []
    for item in NAV:
        if not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # an area whose pages are not installed yet
        items.append({"key": item.key, "label": item.label, "url": url, "icon": item.icon})
    return items
