"""The retrospective forecast and SMART goals pages (/app/analytics/forecast/, …/goals/)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.forecast.service import ForecastError, forecast_compute
from analytics.forms import FORECAST_METRICS, ForecastForm, ForecastSaveForm, GoalForm
from analytics.goals.service import GoalError, goal_archive, goal_check, goal_create
from analytics.goals.values import GOAL_METRICS
from analytics.models import Forecast, Goal
from analytics.views.export import csv_response, wants_csv
from analytics.views.plans_display import (
    forecast_chart,
    forecast_display,
    forecast_rows,
    goal_cards,
)
from customers.models import Segment
from workspace.permissions import staff_permission_required

SAVED_SHOWN = 20


@staff_permission_required("view_analytics")
def forecast_page(request):
    form = ForecastForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = forecast_compute(
                metric=data["metric"],
                launch=data["launch"],
                horizon_days=data["horizon_days"],
                channel=data["channel"],
                segment_id=data["segment"],
                activity_days=data["activity_days"],
            ).as_dict()
        except ForecastError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    if result and wants_csv(request):
        header, rows = forecast_rows(result)
        return csv_response("forecast.csv", header, rows)
    return render(request, "analytics/forecast.html", _forecast_context(request, form, result))


@staff_permission_required("view_analytics")
def forecast_saved(request, forecast_id: int):
    forecast = get_object_or_404(Forecast, pk=forecast_id)
    if wants_csv(request):
        header, rows = forecast_rows(forecast.result)
        return csv_response(f"forecast-{forecast.pk}.csv", header, rows)
    form = ForecastForm(
        initial={
            "metric": forecast.metric,
            "launch": forecast.launch,
            "horizon_days": forecast.horizon_days,
            "channel": forecast.channel,
            "segment": forecast.segment_id or "",
            "activity_days": forecast.activity_days,
        }
    )
    ctx = _forecast_context(request, form, forecast.result)
    ctx["saved"] = forecast
    return render(request, "analytics/forecast.html", ctx)


@require_POST
@staff_permission_required("manage_analytics")
def forecast_save(request):
    form = ForecastForm(request.POST)
    name_form = ForecastSaveForm(request.POST)
    if not (form.is_valid() and name_form.is_valid()):
        messages.error(request, _("The forecast could not be saved: check its parameters."))
        return redirect("analytics:forecast")
    data = form.cleaned_data
    try:
        result = forecast_compute(
            metric=data["metric"],
            launch=data["launch"],
            horizon_days=data["horizon_days"],
            channel=data["channel"],
            segment_id=data["segment"],
            activity_days=data["activity_days"],
        )
    except ForecastError as error:
        messages.error(request, error.message)
        return redirect("analytics:forecast")
    forecast = Forecast.objects.create(
        name=name_form.cleaned_data["name"],
        metric=data["metric"],
        launch=data["launch"],
        horizon_days=data["horizon_days"],
        channel=data["channel"],
        segment=Segment.objects.filter(pk=data["segment"]).first() if data["segment"] else None,
        activity_days=data["activity_days"],
        result=result.as_dict(),
        created_by=request.user,
    )
    messages.success(request, _("Forecast saved."))
    return redirect("analytics:forecast_saved", forecast.pk)


def _forecast_context(request, form, result) -> dict:
    metric_labels = dict(FORECAST_METRICS)
    ctx = {
        "page": "analytics",
        "form": form,
        "result": result,
        "saved_forecasts": Forecast.objects.select_related("segment")[:SAVED_SHOWN],
        "metric_labels": metric_labels,
        "can_save": request.user.has_perm("workspace.manage_analytics"),
        "query": request.GET.urlencode(),
    }
    if result:
        ctx["chart"] = forecast_chart(result)
        ctx.update(forecast_display(result))
        ctx["metric_label"] = metric_labels.get(result["metric"], result["metric"])
        ctx["segment_name"] = (
            Segment.objects.filter(pk=result["segment_id"]).values_list("name", flat=True).first()
            if result["segment_id"]
            else None
        )
    return ctx


@staff_permission_required("view_analytics")
def goals_page(request):
    goals = (
        Goal.objects.filter(archived_at__isnull=True)
        .select_related("segment")
        .prefetch_related("strategies", "journeys")
    )
    if wants_csv(request):
        header = ["name", "metric", "segment", "channel", "baseline", "value", "projected",
                  "target", "deadline", "status"]  # fmt: skip
        rows = [
            [
                g.name,
                g.metric,
                g.segment.name if g.segment else "",
                g.channel,
                g.baseline,
                g.value,
                g.projected,
                g.target,
                g.deadline,
                g.status,
            ]
            for g in goals
        ]
        return csv_response("goals.csv", header, rows)
    ctx = {
        "page": "analytics",
        "cards": goal_cards(goals),
        "can_manage": request.user.has_perm("workspace.manage_analytics"),
    }
    return render(request, "analytics/goals/list.html", ctx)


@staff_permission_required("manage_analytics")
def goal_new(request):
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            goal_create(
                name=data["name"],
                metric=data["metric"],
                target=data["target"],
                deadline=data["deadline"],
                segment=data["segment"],
                channel=data["channel"],
                window_days=data["window_days"],
                strategies=data["strategies"],
                journeys=data["journeys"],
                user=request.user,
            )
        except GoalError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Goal created; its baseline is measured."))
            return redirect("analytics:goals")
    return render(request, "analytics/goals/form.html", {"page": "analytics", "form": form})


@staff_permission_required("manage_analytics")
def goal_edit(request, goal_id: int):
    goal = get_object_or_404(Goal, pk=goal_id, archived_at__isnull=True)
    initial = {
        "name": goal.name,
        "metric": goal.metric,
        "target": goal.target,
        "deadline": goal.deadline,
        "segment": goal.segment_id or "",
        "channel": goal.channel,
        "window_days": goal.window_days,
        "strategies": list(goal.strategies.all()),
        "journeys": list(goal.journeys.all()),
    }
    form = GoalForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["deadline"] <= goal.starts_on:
            form.add_error("deadline", _("The deadline must be after the goal's start."))
        else:
            goal.name, goal.target, goal.deadline = data["name"], data["target"], data["deadline"]
            goal.save(update_fields=["name", "target", "deadline"])
            goal.strategies.set(data["strategies"])
            goal.journeys.set(data["journeys"])
            goal_check(goal)
            messages.success(request, _("Goal saved."))
            return redirect("analytics:goals")
    ctx = {"page": "analytics", "form": form, "goal": goal}
    return render(request, "analytics/goals/form.html", ctx)


@require_POST
@staff_permission_required("manage_analytics")
def goal_check_view(request, goal_id: int):
    goal_check(get_object_or_404(Goal, pk=goal_id, archived_at__isnull=True))
    return redirect("analytics:goals")


@require_POST
@staff_permission_required("manage_analytics")
def goal_archive_view(request, goal_id: int):
    goal = get_object_or_404(Goal, pk=goal_id, archived_at__isnull=True)
    goal_archive(goal)
    messages.success(request, _("Goal “%(name)s” archived.") % {"name": goal.name})
    return redirect("analytics:goals")


GOAL_LABELS = {key: label for key, (label, _unit) in GOAL_METRICS.items()}
