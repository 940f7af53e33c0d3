"""Home: what happened today, at a glance; each block only for staff who may open its page."""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from workspace.permissions import staff_permission_required
from workspace.selectors import home_summary

# Other areas' pages, by plain path: their URL names belong to those apps.
INBOX_PATH = "/app/inbox/"


def _capped(count: dict) -> str:
    return f"{intcomma(count['n'])}+" if count["more"] else intcomma(count["n"])


@staff_permission_required("view_home")
def home(request):
    summary = home_summary(request.user)
    today = timezone.localdate()
    ctx = {"page": "home", "summary": summary, "today": today}
    if summary["sends"] is not None:
        ctx["sends_href"] = f"{reverse('channels:messages')}?date_from={today.isoformat()}"
    if summary["inbox"] is not None:
        inbox = summary["inbox"]
        ctx["inbox_tiles"] = [
            {"label": _("Open conversations"), "value": _capped(inbox["open"])},
            {"label": _("Unassigned"), "value": _capped(inbox["unassigned"])},
            {"label": _("Assigned to me"), "value": _capped(inbox["mine"])},
        ]
        ctx["inbox_href"] = INBOX_PATH
    return render(request, "workspace/home.html", ctx)
