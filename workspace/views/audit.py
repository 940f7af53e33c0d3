"""The audit log for admins (/app/audit/): every staff action, filterable, newest first."""

import json
from datetime import datetime, time, timedelta

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from api.models import AuditEntry
from customers.models import Customer
from workspace.forms.audit import AuditFilterForm, action_label
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required
from workspace.views.settings import settings_tabs


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _shown(value):
    """A logged value as staff read it: lists joined, mappings as JSON, None kept for ∅."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _diff(before, after) -> list[dict]:
    """Field by field: the value before and after (either may be absent)."""
    before = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"": after})
    keys = list(dict.fromkeys([*before, *after]))
    return [
        {
            "field": key,
            "before": _shown(before.get(key)),
            "after": _shown(after.get(key)),
            "has_before": key in before,
            "has_after": key in after,
        }
        for key in keys
    ]


def _customer_url(external_id: str) -> str:
    try:
        return reverse("workspace:customer", args=[external_id])
    except NoReverseMatch:
        return ""


@staff_permission_required("view_audit")
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.all()
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            entries = entries.filter(actor_name__iexact=data["actor"].strip())
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["customer"]:
            customer_pk = (
                Customer.objects.filter(external_id=data["customer"].strip())
                .values_list("pk", flat=True)
                .first()
            )
            entries = entries.filter(customer_id=customer_pk if customer_pk else -1)
        if data["since"]:
            entries = entries.filter(occurred_at__gte=_day_start(data["since"]))
        if data["until"]:
            entries = entries.filter(occurred_at__lt=_day_start(data["until"] + timedelta(days=1)))
        filtered = any(data.values())
    elif form.is_bound:
        entries = entries.none()
        filtered = True
    rows, next_url = keyset_page(entries, request)
    customers = dict(
        Customer.objects.filter(pk__in={e.customer_id for e in rows if e.customer_id}).values_list(
            "pk", "external_id"
        )
    )
    items = []
    for entry in rows:
        external_id = customers.get(entry.customer_id, "")
        items.append(
            {
                "entry": entry,
                "action": action_label(entry.action),
                "diff": _diff(entry.before, entry.after),
                "customer": external_id,
                "customer_url": _customer_url(external_id) if external_id else "",
            }
        )
    ctx = {
        "page": "settings",
        "tabs": settings_tabs(request.user, "audit"),
        "form": form,
        "items": items,
        "next_url": next_url,
        "filtered": filtered,
    }
    return render(request, "workspace/audit.html", ctx)
