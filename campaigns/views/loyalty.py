"""The loyalty settings page (/app/campaigns/loyalty/) and the staff points adjustment."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from campaigns.loyalty.forms import LoyaltySettingsForm, PointsAdjustForm, bonuses_text
from campaigns.loyalty.selectors import loyalty_figures, loyalty_settings_get
from campaigns.loyalty.services import (
    InsufficientPoints,
    KeyReused,
    loyalty_settings_update,
    points_adjust,
)
from customers.selectors import customer_list
from workspace.permissions import staff_permission_required

FIELDS = [
    "enabled",
    "points_per_unit",
    "rounding",
    "batch_lifetime_days",
    "event_bonuses",
    "warn_min_points",
    "warn_within_days",
]


@staff_permission_required("view_campaigns")
def loyalty_settings(request):
    row = loyalty_settings_get()
    initial = {field: getattr(row, field) for field in FIELDS}
    initial["event_bonuses"] = bonuses_text(row.event_bonuses)
    form = LoyaltySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm("workspace.manage_campaigns"):
            raise PermissionDenied
        if form.is_valid():
            loyalty_settings_update(
                actor=request.user, data=form.cleaned_data, ip_address=client_ip(request)
            )
            messages.success(request, _("Loyalty settings are saved."))
            return redirect("campaigns:loyalty")
    ctx = {
        "page": "campaigns",
        "form": form,
        "row": row,
        "bonuses": sorted(row.event_bonuses.items()),
        "figures": loyalty_figures(),
    }
    return render(request, "campaigns/loyalty/settings.html", ctx)


@require_POST
@staff_permission_required("manage_campaigns")
def points_adjust_view(request, external_id: str):
    customer = get_object_or_404(customer_list(), external_id=external_id)
    form = PointsAdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Points not changed: enter a whole number and a reason."))
    else:
        try:
            points_adjust(
                customer=customer,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                ip_address=client_ip(request),
                idempotency_key=f"staff:{key}" if (key := form.cleaned_data["key"]) else "",
            )
        except KeyReused:
            messages.error(request, _("Points not changed: reload the page and try again."))
        except InsufficientPoints as exc:
            messages.error(
                request,
                _("Points not changed: the balance is only %(balance)s.")
                % {"balance": exc.balance},
            )
        else:
            messages.success(request, _("Points adjusted."))
    return redirect("workspace:customer", external_id=customer.external_id)
