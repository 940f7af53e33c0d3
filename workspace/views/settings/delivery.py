"""Settings → Delivery: frequency caps for marketing and quiet hours (channels.DeliverySettings)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from api.audit import client_ip
from workspace.forms.settings import DeliverySettingsForm
from workspace.permissions import staff_permission_required
from workspace.services.settings import (
    DELIVERY_FIELDS,
    delivery_settings_current,
    delivery_settings_update,
)
from workspace.views.settings import settings_context


@staff_permission_required("manage_settings")
def delivery(request):
    row = delivery_settings_current()
    initial = {field: getattr(row, field) for field in DELIVERY_FIELDS}
    # 3.2500 reads as 3.25, and 0.0000 as 0.
    initial["sms_part_price"] = f"{row.sms_part_price:f}".rstrip("0").rstrip(".") or "0"
    form = DeliverySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {field: form.cleaned_data[field] for field in DELIVERY_FIELDS}
        if delivery_settings_update(actor=request.user, ip=client_ip(request), values=values):
            messages.success(request, _("Delivery settings are saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("workspace:settings_delivery")
    ctx = settings_context(request, "delivery", form=form, row=row)
    return render(request, "workspace/settings/delivery.html", ctx)
