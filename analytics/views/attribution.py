"""Campaigns and journeys: attributed revenue by model and group, the chart with its table, the
CSV of that table, the holdout uplift, and each channel's touch rule."""

from __future__ import annotations

import csv
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.attribution.forms import GROUP_CHOICES, AttributionFilterForm, ChannelSettingForm
from analytics.attribution.reports import attribution_report, attribution_totals, uplift_boxes
from analytics.attribution.services import attribution_channel_setting_save, channel_settings
from analytics.models.attribution import AttributionModel, TouchRule
from channels.message_log import CHANNEL_LABELS
from customers.models import Channel
from workspace.permissions import staff_permission_required

CHART_BARS = 15  # the chart shows the top groups; the table has them all
CHART_LABEL = (
    28  # characters of a name on the chart's axis (a phone is narrow); the table has it all
)


def _query(request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if v != ""}
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _chart(rows: list[dict]) -> dict:
    top = rows[:CHART_BARS]
    return {
        "labels": [Truncator(row["label"]).chars(CHART_LABEL) for row in top],
        "datasets": [
            {"label": _("Revenue"), "tone": "accent", "data": [float(r["revenue"]) for r in top]}
        ],
    }


def _rows_with_share(rows: list[dict], total: Decimal) -> list[dict]:
    for row in rows:
        row["share"] = float(row["revenue"] / total * 100) if total else 0.0
    return rows


def _uplift_fmt(box: dict) -> dict:
    relative = box["uplift_relative"]
    return {
        **box,
        "rate_pct": number_format(box["conversion_rate"] * 100, 2),
        "holdout_rate_pct": number_format(box["holdout_conversion_rate"] * 100, 2),
        "points": number_format(box["uplift_points"] * 100, 2),
        "relative_pct": None if relative is None else number_format(relative * 100, 1),
        "positive": box["uplift_points"] > 0,
        "p": number_format(box["p_value"], 4),
    }


def _settings_rows() -> list[dict]:
    stored = channel_settings()
    rules = dict(TouchRule.choices)
    return [
        {
            "channel": value,
            "label": str(CHANNEL_LABELS.get(value, label)),
            "touch": rules[stored[value][0]],
            "hours": stored[value][1],
        }
        for value, label in Channel.choices
        if value in stored
    ]


@require_GET
@staff_permission_required("view_analytics")
def attribution_page(request):
    return render(request, "analytics/attribution/page.html", _context(request))


def _context(request, setting_form: ChannelSettingForm | None = None) -> dict:
    """The report for the GET filters; the page after a rejected rule change shows the same."""
    form = AttributionFilterForm(request.GET)
    ctx = {"page": "analytics", "form": form, "settings_rows": _settings_rows()}
    ctx["can_manage"] = request.user.has_perm("workspace.manage_analytics")
    if ctx["can_manage"]:
        ctx["setting_form"] = setting_form or ChannelSettingForm(
            initial={"touch": TouchRule.OPENED, "window_hours": 24}
        )
        ctx["query"] = _query(request)
    if form.is_valid():
        f = form.report_filter()
        # Show the period the report covers, defaults included, in the date fields.
        shown = {k: v for k, v in request.GET.items()}
        shown.update({k: form.cleaned_data[k].isoformat() for k in ("from", "to")})
        ctx["form"] = AttributionFilterForm(shown)
        group_by = form.cleaned_data["group_by"]
        totals = attribution_totals(f)
        rows = _rows_with_share(attribution_report(f, group_by), totals["revenue"])
        ctx.update(
            model=f.model,
            group_by=group_by,
            totals=totals,
            rows=rows,
            chart=_chart(rows) if rows else None,
            chart_size="chart-sm"
            if len(rows) <= 3
            else "chart-md"
            if len(rows) <= 8
            else "chart-lg",
            uplifts=[_uplift_fmt(b) for b in uplift_boxes(group_by, rows[:CHART_BARS])],
            model_tabs=[
                {
                    "label": label,
                    "url": f"?{_query(request, model=value)}",
                    "active": value == f.model,
                }
                for value, label in AttributionModel.choices
            ],
            group_tabs=[
                {
                    "label": label,
                    "url": f"?{_query(request, group_by=value)}",
                    "active": value == group_by,
                }
                for value, label in GROUP_CHOICES
            ],
            csv_url=f"{reverse('analytics:attribution_csv')}?{_query(request)}",
            period=(form.cleaned_data["from"], form.cleaned_data["to"]),
            filtered=any(request.GET.get(k) for k in ("from", "to", "channel", "segment")),
        )
    return ctx


@require_GET
@staff_permission_required("view_analytics")
def attribution_csv(request):
    """The page's table as CSV, with the same filters."""
    form = AttributionFilterForm(request.GET)
    if not form.is_valid():
        return redirect(f"{reverse('analytics:attribution')}?{_query(request)}")
    f = form.report_filter()
    group_by = form.cleaned_data["group_by"]
    rows = attribution_report(f, group_by)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"attribution-{f.model}-{group_by}-{form.cleaned_data['from']}-{form.cleaned_data['to']}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow([group_by, "key", "conversions", "revenue", "orders"])
    for row in rows:
        writer.writerow(
            [_csv_safe(row["label"]), row["key"], row["conversions"], row["revenue"], row["orders"]]
        )
    return response


def _csv_safe(text: str) -> str:
    """Names are staff-typed: one starting like a formula is quoted so a spreadsheet shows it."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_POST
@staff_permission_required("manage_analytics")
def attribution_setting_save(request):
    """Change one channel's rule. The filters ride along in the query string, so a rejected
    form shows its errors on the same report and a saved one returns to it."""
    form = ChannelSettingForm(request.POST)
    if not form.is_valid():
        ctx = _context(request, setting_form=form)
        return render(request, "analytics/attribution/page.html", ctx, status=400)
    data = form.cleaned_data
    attribution_channel_setting_save(
        channel=data["channel"],
        touch=data["touch"],
        window_hours=data["window_hours"],
        actor=request.user,
        ip=request.META.get("REMOTE_ADDR"),
    )
    messages.success(
        request,
        _(
            "Saved. Every order is being attributed again under the new rule; the report follows within minutes."
        ),
    )
    return redirect(f"{reverse('analytics:attribution')}?{_query(request)}#touch-rules")
