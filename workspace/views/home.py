"""Home: what happened today, at a glance; each block only for staff who may open its page."""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.goals.selectors import goals_off_track
from campaigns.promo.selectors import promo_pools_low_stock
from workspace.permissions import staff_permission_required
from workspace.selectors import home_summary


def _capped(count: dict) -> str:
    return f"{intcomma(count['n'])}+" if count["more"] else intcomma(count["n"])


@staff_permission_required("view_home")
def home(request):
    summary = home_summary(request.user)
    today = timezone.localdate()
    ctx = {
        "page": "home",
        "summary": summary,
        "today": today,
        "customers_url": reverse("workspace:customers"),
    }
    if summary["sends"] is not None:
        ctx["sends_href"] = f"{reverse('channels:messages')}?date_from={today.isoformat()}"
    if summary["inbox"] is not None:
        inbox = summary["inbox"]
        ctx["inbox_tiles"] = [
            {"label": _("Open conversations"), "value": _capped(inbox["open"])},
            {"label": _("Unassigned"), "value": _capped(inbox["unassigned"])},
            {"label": _("Assigned to me"), "value": _capped(inbox["mine"])},
        ]
        ctx["inbox_href"] = reverse("channels:inbox")
    if request.user.has_perm("workspace.view_campaigns"):
        ctx["low_pools"] = promo_pools_low_stock()  # one query on a handful of pool rows
    if request.user.has_perm("workspace.view_analytics"):
        ctx["goals_off_track"] = goals_off_track()  # one query on a handful of goal rows
    return render(request, "workspace/home.html", ctx)
