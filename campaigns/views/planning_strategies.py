"""Communication strategies: the list, the form (scheme, segments, the four questions), and a
strategy's page with its content by stage and the per-stage funnel."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.planning.forms import ContentForm, StrategyForm
from campaigns.planning.models import CommunicationStrategy, StrategyContent
from campaigns.planning.selectors import (
    CONVERSION_DAYS,
    link_targets,
    strategy_content,
    strategy_funnel,
    strategy_list,
)
from campaigns.planning.services import (
    strategy_content_add,
    strategy_content_remove,
    strategy_create,
    strategy_delete,
    strategy_update,
)
from campaigns.views.planning import errors_to_form
from workspace.permissions import staff_permission_required


@staff_permission_required("view_campaigns")
def strategy_index(request):
    ctx = {"page": "campaigns", "strategies": list(strategy_list()[:200])}
    return render(request, "campaigns/planning/strategy_list.html", ctx)


def _fields(form: StrategyForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "scheme": data["scheme"],
        "segments": list(data["segments"]),
        "audience": data["audience"],
        "goal": data["goal"],
        "timing": data["timing"],
        "tone": data["tone"],
        "channels": form.channels_value(),
    }


@staff_permission_required("manage_campaigns")
def strategy_new(request):
    form = StrategyForm(request.POST or None, initial={"scheme": "aida"}, channels=["email"])
    if request.method == "POST" and form.is_valid():
        try:
            strategy = strategy_create(**_fields(form))
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Strategy “%(name)s” created.") % {"name": strategy.name})
            return redirect("campaigns:strategy", strategy_id=strategy.pk)
    ctx = {"page": "campaigns", "form": form}
    return render(
        request, "campaigns/planning/strategy_form.html", ctx, status=400 if form.errors else 200
    )


@staff_permission_required("manage_campaigns")
def strategy_edit(request, strategy_id: int):
    strategy = get_object_or_404(CommunicationStrategy, pk=strategy_id)
    initial = {
        "name": strategy.name,
        "scheme": strategy.scheme,
        "segments": list(strategy.segments.all()),
        "audience": strategy.audience,
        "goal": strategy.goal,
        "timing": strategy.timing,
        "tone": strategy.tone,
    }
    form = StrategyForm(request.POST or None, initial=initial, channels=strategy.channels)
    if request.method == "POST" and form.is_valid():
        try:
            strategy_update(strategy=strategy, **_fields(form))
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Strategy saved."))
            return redirect("campaigns:strategy", strategy_id=strategy.pk)
    ctx = {"page": "campaigns", "form": form, "strategy": strategy}
    return render(
        request, "campaigns/planning/strategy_form.html", ctx, status=400 if form.errors else 200
    )


@require_POST
@staff_permission_required("manage_campaigns")
def strategy_delete_view(request, strategy_id: int):
    strategy = get_object_or_404(CommunicationStrategy, pk=strategy_id)
    strategy_delete(strategy=strategy)
    messages.success(request, _("Strategy “%(name)s” deleted.") % {"name": strategy.name})
    return redirect("campaigns:strategies")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value * 100, 1)} %"


def _funnel_chart(rows: list[dict]) -> dict:
    return {
        "labels": [str(r["label"]) for r in rows],
        "datasets": [
            {"label": _("Reach"), "tone": "info", "data": [r["reach"] for r in rows]},
            {"label": _("Engaged"), "tone": "ok", "data": [r["engaged"] for r in rows]},
            {"label": _("Converted"), "tone": "violet", "data": [r["converted"] for r in rows]},
        ],
    }


def _detail_context(request, strategy: CommunicationStrategy, form: ContentForm | None = None):
    content = strategy_content(strategy)
    targets = link_targets({(c.kind, c.object_id) for c in content})
    funnel = strategy_funnel(strategy)
    for row in funnel:
        row["engagement_pct"] = _pct(row["engagement_rate"])
        row["conversion_pct"] = _pct(row["conversion_rate"])
    stages = [
        {
            "key": key,
            "label": label,
            "items": [
                {"content": c, "target": targets[(c.kind, c.object_id)]}
                for c in content
                if c.stage == key
            ],
        }
        for key, label in strategy.stages()
    ]
    return {
        "page": "campaigns",
        "strategy": strategy,
        "segments": list(strategy.segments.order_by("name")),
        "stages": stages,
        "funnel": funnel,
        "chart": _funnel_chart(funnel) if any(r["reach"] for r in funnel) else None,
        "days": CONVERSION_DAYS,
        "can_edit": request.user.has_perm("workspace.manage_campaigns"),
        "content_form": form or ContentForm(stages=strategy.stages()),
    }


@staff_permission_required("view_campaigns")
def strategy_detail(request, strategy_id: int):
    strategy = get_object_or_404(CommunicationStrategy, pk=strategy_id)
    return render(
        request, "campaigns/planning/strategy_detail.html", _detail_context(request, strategy)
    )


@require_POST
@staff_permission_required("manage_campaigns")
def strategy_content_add_view(request, strategy_id: int):
    strategy = get_object_or_404(CommunicationStrategy, pk=strategy_id)
    form = ContentForm(request.POST, stages=strategy.stages())
    if form.is_valid():
        kind, object_id, step_id = form.content_kind()
        try:
            strategy_content_add(
                strategy=strategy,
                stage=form.cleaned_data["stage"],
                kind=kind,
                object_id=object_id,
                step_id=step_id,
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Content tagged."))
            return redirect("campaigns:strategy", strategy_id=strategy.pk)
    ctx = _detail_context(request, strategy, form)
    return render(request, "campaigns/planning/strategy_detail.html", ctx, status=400)


@require_POST
@staff_permission_required("manage_campaigns")
def strategy_content_remove_view(request, strategy_id: int, content_id: int):
    content = get_object_or_404(StrategyContent, pk=content_id, strategy_id=strategy_id)
    strategy_content_remove(content=content)
    messages.success(request, _("Content untagged."))
    return redirect("campaigns:strategy", strategy_id=strategy_id)
