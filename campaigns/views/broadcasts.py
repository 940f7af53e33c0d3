"""Broadcast pages: the list, the wizard (new and edit a draft), and a broadcast's own page, which
is the review before launch and the live results after it."""

from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from campaigns.broadcasts.forms import BroadcastForm, broadcast_initial
from campaigns.broadcasts.models import Broadcast, BroadcastStats, BroadcastStatus
from campaigns.broadcasts.selectors import broadcast_list as broadcasts_query
from campaigns.broadcasts.selectors import content_name
from campaigns.broadcasts.services.estimate import broadcast_estimate
from campaigns.broadcasts.services.setup import BroadcastError, broadcast_create, broadcast_update
from campaigns.views.broadcasts_labels import reasons_list, status_of
from campaigns.views.broadcasts_results import fmt_int, fmt_pct, results_context
from channels.services.policy import delivery_settings
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required

BEFORE_LAUNCH = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)


def _list_rates(ids: list[int]) -> dict[int, dict]:
    """Sent, opened and clicked per broadcast from its stats rows (never its messages)."""
    rows = (
        BroadcastStats.objects.filter(broadcast_id__in=ids, holdout=False)
        .values("broadcast_id")
        .annotate(sent=Sum("sent"), opened=Sum("opened"), clicked=Sum("clicked"))
    )
    rates = {}
    for row in rows:
        sent = row["sent"] or 0
        rates[row["broadcast_id"]] = {
            "sent": fmt_int(sent),
            "open_rate": fmt_pct(row["opened"] / sent if sent else None),
            "click_rate": fmt_pct(row["clicked"] / sent if sent else None),
        }
    return rates


@staff_permission_required("view_campaigns")
def broadcast_list(request):
    broadcasts, next_url = keyset_page(broadcasts_query(), request)
    rates = _list_rates([b.pk for b in broadcasts])
    rows = [
        {
            "broadcast": b,
            "status": status_of(b),
            "audience": fmt_int(b.audience_count) if b.launched_at else "",
            "rates": rates.get(b.pk),
        }
        for b in broadcasts
    ]
    ctx = {
        "page": "campaigns",
        "rows": rows,
        "next_url": next_url,
        "is_next_page": bool(request.GET.get("before")),
    }
    return render(request, "campaigns/broadcasts/list.html", ctx)


def _form_page(request, form, broadcast=None, status=200):
    ctx = {
        "page": "campaigns",
        "form": form,
        "broadcast": broadcast,
        "step": "setup",
        "default_zone": delivery_settings().default_timezone or "UTC",
    }
    return render(request, "campaigns/broadcasts/form.html", ctx, status=status)


def _save(request, form, broadcast=None):
    """Create or update from a valid form; a BroadcastError lands on the field it names."""
    kwargs = form.service_kwargs()
    variants = kwargs.pop("variants")
    try:
        if broadcast is None:
            return broadcast_create(**kwargs, variants=variants, actor=request.user)
        return broadcast_update(broadcast, variants=variants, actor=request.user, **kwargs)
    except BroadcastError as error:
        form.add_error(form.error_field(error.field), error.message)
        return None


@staff_permission_required("manage_campaigns")
def broadcast_new(request):
    form = BroadcastForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        broadcast = _save(request, form)
        if broadcast is not None:
            messages.success(request, _("Draft saved. Check the review, then launch."))
            return redirect("campaigns:broadcast", broadcast_id=broadcast.pk)
    return _form_page(request, form, status=400 if form.errors else 200)


@staff_permission_required("manage_campaigns")
def broadcast_edit(request, broadcast_id: int):
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    if broadcast.status not in (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED):
        messages.error(request, _("Only a draft or a scheduled broadcast can be changed."))
        return redirect("campaigns:broadcast", broadcast_id=broadcast.pk)
    was_draft = broadcast.status == BroadcastStatus.DRAFT
    form = BroadcastForm(request.POST or None, initial=broadcast_initial(broadcast))
    saved = request.method == "POST" and form.is_valid() and _save(request, form, broadcast)
    if saved:
        messages.success(request, _("Draft saved.") if was_draft else _("Changes saved."))
        return redirect("campaigns:broadcast", broadcast_id=broadcast.pk)
    return _form_page(request, form, broadcast, status=400 if form.errors else 200)


def _review_context(broadcast: Broadcast) -> dict:
    estimate = broadcast_estimate(broadcast)
    variants = list(broadcast.variants.select_related("template").order_by("key"))
    return {
        "estimate": estimate,
        "estimate_fmt": {
            k: fmt_int(estimate.get(k, 0))
            for k in ("members", "holdout", "to_send", "test", "reachable", "suppressed")
        },
        "reachable_by_channel": [
            {"channel": c, "count": fmt_int(n)}
            for c, n in estimate.get("reachable_by_channel", {}).items()
        ],
        "reasons": reasons_list(estimate.get("suppressed_by_reason", {})),
        "variants": variants,
        "channels": [broadcast.channel] if broadcast.channel else list(broadcast.channel_order),
        "preview_url": (
            reverse("campaigns:template_edit", args=[broadcast.template_id])
            if broadcast.template_id
            else ""
        ),
        "content_name": content_name(broadcast),
        "step": "review",
    }


@staff_permission_required("view_campaigns")
def broadcast_detail(request, broadcast_id: int):
    broadcast = get_object_or_404(
        Broadcast.objects.select_related("template", "segment", "promo_pool", "winner"),
        pk=broadcast_id,
    )
    ctx = {"page": "campaigns", "broadcast": broadcast, "status": status_of(broadcast)}
    if broadcast.status in BEFORE_LAUNCH:
        ctx.update(_review_context(broadcast))
        return render(request, "campaigns/broadcasts/review.html", ctx)
    ctx.update(results_context(broadcast))
    ctx["content_name"] = content_name(broadcast)
    return render(request, "campaigns/broadcasts/detail.html", ctx)
