"""Canned responses (/app/inbox/canned/): saved answers agents insert by shortcode."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api.audit import client_ip
from channels.models import CannedResponse
from channels.selectors_inbox import canned_list
from channels.services.inbox import canned_delete, canned_save
from channels.views.inbox_forms import CannedForm
from workspace.permissions import staff_permission_required


@staff_permission_required("manage_canned")
def canned_index(request):
    ctx = {"page": "inbox", "canned": canned_list()}
    return render(request, "channels/inbox/canned_list.html", ctx)


@require_http_methods(["GET", "POST"])
@staff_permission_required("manage_canned")
def canned_edit(request, pk: int | None = None):
    canned = get_object_or_404(CannedResponse, pk=pk) if pk is not None else CannedResponse()
    before = {"shortcode": canned.shortcode, "body": canned.body[:500]} if pk else None
    form = CannedForm(request.POST or None, instance=canned)
    if request.method == "POST" and form.is_valid():
        canned_save(canned=form.instance, actor=request.user, ip=client_ip(request), before=before)
        messages.success(
            request, _("Canned response /%(code)s saved.") % {"code": canned.shortcode}
        )
        return redirect("channels:canned")
    ctx = {"page": "inbox", "form": form, "canned": canned}
    return render(request, "channels/inbox/canned_form.html", ctx)


@require_POST
@staff_permission_required("manage_canned")
def canned_delete_view(request, pk: int):
    canned = get_object_or_404(CannedResponse, pk=pk)
    code = canned.shortcode
    canned_delete(canned=canned, actor=request.user, ip=client_ip(request))
    messages.success(request, _("Canned response /%(code)s deleted.") % {"code": code})
    return redirect("channels:canned")
