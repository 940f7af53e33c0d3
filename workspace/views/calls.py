"""The caller card: the page a telephony integration opens on an incoming call."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels.services.calls import caller_card
from customers.normalize import normalize_phone
from workspace.permissions import staff_permission_required


@require_GET
@staff_permission_required("view_calls")
def call_lookup(request):
    phone = request.GET.get("phone", "").strip()[:40]
    popup = request.GET.get("popup") == "1"  # the telephony pop-up: the card without the shell
    ctx = {
        "page": "customers",
        "phone": phone,
        "card": None,
        "normalised": "",
        "error": "",
        "popup": popup,
        "layout": "workspace/calls/popup_base.html" if popup else "workspace/base.html",
    }
    if phone:
        try:
            ctx["normalised"] = normalize_phone(phone)
        except ValueError:
            ctx["error"] = "bad"
        else:
            ctx["card"] = caller_card(phone=ctx["normalised"])
    return render(request, "workspace/calls/lookup.html", ctx, status=400 if ctx["error"] else 200)
