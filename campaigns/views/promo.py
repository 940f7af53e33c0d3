"""Promo code pages: pools with their stock, a pool's codes, new pool, generate, import, archive."""

import csv
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from api.audit import client_ip
from campaigns.promo.forms import (
    CodeFilterForm,
    GenerateForm,
    ImportForm,
    PoolEditForm,
    PoolForm,
)
from campaigns.promo.models import PromoPool
from campaigns.promo.selectors import (
    promo_codes_page,
    promo_pool_is_low,
    promo_pools_low_stock,
    promo_pools_stock,
)
from campaigns.promo.services import PromoError
from campaigns.promo.staff import (
    promo_codes_generate_by_staff,
    promo_codes_import_by_staff,
    promo_pool_archive_by_staff,
    promo_pool_create_by_staff,
    promo_pool_update_by_staff,
)
from workspace.permissions import staff_permission_required

PAGE_SIZE = 50
REFUSAL_LABELS = {
    "empty": gettext_lazy("empty"),
    "too_long": gettext_lazy("longer than 64 characters"),
    "bad_characters": gettext_lazy("only letters, digits, - and _ are allowed"),
    "shared_pool_has_one_code": gettext_lazy("a shared pool has one code"),
}


def _int(value, default=0) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return default


@staff_permission_required("view_campaigns")
def promo_pools(request):
    after = _int(request.GET.get("before"), 0)
    pools_qs = PromoPool.objects.order_by("-id")
    if after:
        pools_qs = pools_qs.filter(id__lt=after)
    pools = list(pools_qs[: PAGE_SIZE + 1])
    more = len(pools) > PAGE_SIZE
    pools = pools[:PAGE_SIZE]
    stock = promo_pools_stock([p.pk for p in pools])
    rows = [
        {"pool": p, "stock": stock[p.pk], "low": promo_pool_is_low(p, stock[p.pk])} for p in pools
    ]
    ctx = {
        "page": "campaigns",
        "rows": rows,
        "low_pools": promo_pools_low_stock(),
        "next_url": f"?before={pools[-1].pk}" if more else "",
    }
    return render(request, "campaigns/promo/pools.html", ctx)


@staff_permission_required("manage_campaigns")
def promo_pool_new(request):
    form = PoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool = promo_pool_create_by_staff(
                actor=request.user, ip_address=client_ip(request), fields=form.cleaned_data
            )
        except ValidationError as error:  # a model-level rule: shown on the form
            form.add_error(None, error)
        else:
            messages.success(request, _("Pool “%(name)s” created.") % {"name": pool.name})
            return redirect("campaigns:promo_pool", pool_id=pool.pk)
    return render(request, "campaigns/promo/pool_form.html", {"page": "campaigns", "form": form})


@staff_permission_required("manage_campaigns")
def promo_pool_edit(request, pool_id: int):
    pool = get_object_or_404(PromoPool, pk=pool_id, archived_at__isnull=True)
    form = PoolEditForm(request.POST or None, instance=PromoPool.objects.get(pk=pool.pk))
    if request.method == "POST" and form.is_valid():
        try:
            promo_pool_update_by_staff(
                actor=request.user,
                ip_address=client_ip(request),
                pool=pool,
                fields=form.cleaned_data,
            )
        except ValidationError as error:  # a model-level rule: shown on the form
            form.add_error(None, error)
        else:
            messages.success(request, _("Pool “%(name)s” saved.") % {"name": pool.name})
            return redirect("campaigns:promo_pool", pool_id=pool.pk)
    ctx = {"page": "campaigns", "form": form, "pool": pool}
    return render(request, "campaigns/promo/pool_form.html", ctx)


def _detail_context(request, pool: PromoPool, **extra) -> dict:
    filters = CodeFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    codes, next_after = promo_codes_page(
        pool, status=status, after_id=_int(request.GET.get("after")), limit=PAGE_SIZE
    )
    stock = promo_pools_stock([pool.pk])[pool.pk]
    query = {"status": status} if status else {}
    next_url = ""
    if next_after:
        next_url = "?" + urlencode({**query, "after": next_after})
    return {
        "page": "campaigns",
        "has_side": True,
        "pool": pool,
        "pattern": pool.prefix + "X" * pool.code_length,
        "stock": stock,
        "low": promo_pool_is_low(pool, stock),
        "codes": codes,
        "filters": filters,
        "next_url": next_url,
        "generate_form": GenerateForm(),
        "import_form": ImportForm(),
        **extra,
    }


@staff_permission_required("view_campaigns")
def promo_pool(request, pool_id: int):
    pool = get_object_or_404(PromoPool, pk=pool_id)
    return render(request, "campaigns/promo/pool.html", _detail_context(request, pool))


@require_POST
@staff_permission_required("manage_campaigns")
def promo_pool_generate(request, pool_id: int):
    pool = get_object_or_404(PromoPool, pk=pool_id)
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            created = promo_codes_generate_by_staff(
                actor=request.user,
                ip_address=client_ip(request),
                pool=pool,
                count=form.cleaned_data["count"],
            )
        except PromoError as error:
            form.add_error("count", str(error))
        else:
            messages.success(request, _("%(count)s codes added.") % {"count": created})
            return redirect("campaigns:promo_pool", pool_id=pool.pk)
    ctx = _detail_context(request, pool, generate_form=form)
    return render(request, "campaigns/promo/pool.html", ctx, status=400)


@require_POST
@staff_permission_required("manage_campaigns")
def promo_pool_import(request, pool_id: int):
    pool = get_object_or_404(PromoPool, pk=pool_id)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        ctx = _detail_context(request, pool, import_form=form)
        return render(request, "campaigns/promo/pool.html", ctx, status=400)
    rows = csv.reader(io.StringIO(form.cleaned_data["file"]))
    report = promo_codes_import_by_staff(
        actor=request.user, ip_address=client_ip(request), pool=pool, rows=rows
    )
    refused = [
        {**row, "reason_label": REFUSAL_LABELS.get(row["reason"], row["reason"])}
        for row in report.refused[:200]
    ]
    ctx = _detail_context(
        request, pool, report=report, refused=refused, refused_more=len(report.refused) > 200
    )
    return render(request, "campaigns/promo/pool.html", ctx)


@require_POST
@staff_permission_required("manage_campaigns")
def promo_pool_archive(request, pool_id: int):
    pool = get_object_or_404(PromoPool, pk=pool_id)
    promo_pool_archive_by_staff(actor=request.user, ip_address=client_ip(request), pool=pool)
    messages.success(request, _("Pool “%(name)s” archived.") % {"name": pool.name})
    return redirect("campaigns:promo_pool", pool_id=pool.pk)
