"""Cohorts: the monthly acquisition cohort table as a heatmap (customers active as % of the cohort,
orders or revenue, month by month since acquisition), the average retention curve, and a CSV.

The numbers are `analytics.metrics.cohorts.cohort_table` as it returns them (the API's
/api/v1/metrics/cohorts shows the same). The cohorts chosen are followed up to this month, so the
service is asked up to today and the cohorts after the chosen period are dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from analytics.forms import segment_choices
from analytics.metrics import formulas
from analytics.metrics.cohorts import cohort_table
from analytics.metrics.filters import MetricFilters
from analytics.models import CohortActivity
from analytics.rollups.days import month_start
from analytics.views.export import csv_response, wants_csv
from workspace.permissions import staff_permission_required

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
HEAT_LEVELS = 10  # CSS classes heat-0 … heat-10 in static/analytics/css/dash.css
METRICS = [
    ("customers", gettext_lazy("Active customers, %")),
    ("orders", gettext_lazy("Orders")),
    ("revenue", gettext_lazy("Revenue")),
]
CSV_COLUMNS = [
    "cohort",
    "size",
    "months_since",
    "month",
    "customers",
    "retention",
    "orders",
    "revenue",
]


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self) -> None:
        # The placeholder guides a browser without a month picker, where this is a text box.
        super().__init__(format="%Y-%m", attrs={"placeholder": "YYYY-MM"})


class CohortsFilterForm(forms.Form):
    """Which acquisition months to show (the last 12 by default), a segment, and the metric."""

    segment = forms.ChoiceField(label=gettext_lazy("Segment"), required=False)
    metric = forms.ChoiceField(choices=METRICS, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = (("from", gettext_lazy("Cohorts from")), ("to", gettext_lazy("Cohorts to")))
        for name, label in labels:
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                input_formats=["%Y-%m", "%Y-%m-%d"],  # a browser without a month picker
                widget=MonthInput(),
            )
        self.fields["segment"].choices = segment_choices(gettext_lazy("All customers"))
        self.order_fields(["from", "to", "segment"])

    def clean(self) -> dict:
        data = super().clean()
        if "from" in self.errors or "to" in self.errors:
            return data
        this_month = month_start(timezone.localdate())
        last = min(month_start(data.get("to") or this_month), this_month)
        first = month_start(data.get("from") or _months_before(last, DEFAULT_MONTHS - 1))
        if first > last:
            self.add_error("from", _("The first cohort must not be after the last."))
        elif _months_between(first, last) >= MAX_MONTHS:
            self.add_error("from", _("At most 60 cohorts (five years) at a time."))
        data["from"], data["to"] = first, last
        data["metric"] = data.get("metric") or "customers"
        return data

    def metric_filters(self) -> MetricFilters:
        data = self.cleaned_data
        return MetricFilters(
            date_from=data["from"],
            date_to=timezone.localdate(),  # follow the cohorts up to today
            segment_id=int(data["segment"]) if data["segment"] else None,
        )


def _months_before(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def _months_between(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def _heat(value, top) -> int:
    """0 for nothing, else 1–10 in proportion to the largest cell after month 0."""
    if not value or not top:
        return 0
    return max(1, min(HEAT_LEVELS, math.ceil(float(value) / float(top) * HEAT_LEVELS)))


def _cell_value(month: dict, metric: str):
    return month["retention"] if metric == "customers" else month[metric]


def _average_curve(cohorts: list[dict], this_month: dt.date) -> list[dict]:
    """Per month since acquisition: active customers / cohort sizes, over the cohorts that have
    lived through that month (the month still running is left out: it is not over yet)."""
    active: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for cohort in cohorts:
        for month in cohort["months"]:
            if month["month"] >= this_month and month["offset"] > 0:
                continue
            active[month["offset"]] = active.get(month["offset"], 0) + month["customers"]
            sizes[month["offset"]] = sizes.get(month["offset"], 0) + cohort["size"]
    return [
        {"offset": k, "retention": formulas.percent(active[k], sizes[k]), "cohorts_size": sizes[k]}
        for k in sorted(active)
    ]


def _heatmap(cohorts: list[dict], metric: str, width: int, this_month: dt.date) -> list[dict]:
    top = max(
        (_cell_value(m, metric) or 0 for c in cohorts for m in c["months"] if m["offset"] > 0),
        default=0,
    )
    rows = []
    for cohort in cohorts:
        cells = []
        for month in cohort["months"]:
            value = _cell_value(month, metric)
            cells.append(
                {
                    **month,
                    "value": value,
                    "heat": "base" if month["offset"] == 0 else _heat(value, top),
                    "partial": month["month"] >= this_month,
                }
            )
        cells += [None] * (width - len(cells))  # months the cohort has not reached yet
        rows.append({"cohort": cohort["cohort"], "size": cohort["size"], "cells": cells})
    return rows


def _chart(curve: list[dict]) -> dict:
    return {
        "labels": [_("Month %(number)d") % {"number": point["offset"]} for point in curve],
        "datasets": [
            {
                "label": _("Active customers, share of the cohort"),
                "tone": "accent",
                "data": [point["retention"] or 0 for point in curve],
            }
        ],
    }


def _csv(form: CohortsFilterForm, cohorts: list[dict]):
    body = [
        [
            cohort["cohort"].strftime("%Y-%m"),
            cohort["size"],
            month["offset"],
            month["month"].strftime("%Y-%m"),
            month["customers"],
            month["retention"],
            month["orders"],
            month["revenue"],
        ]
        for cohort in cohorts
        for month in cohort["months"]
    ]
    data = form.cleaned_data
    name = f"cohorts-{data['from']:%Y-%m}-{data['to']:%Y-%m}.csv"
    return csv_response(name, CSV_COLUMNS, body)


def _query(request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if v != ""}
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


@require_GET
@staff_permission_required("view_analytics")
def cohorts_page(request):
    form = CohortsFilterForm(request.GET)
    ctx = {"page": "analytics", "form": form, "heatmap": None, "reset_url": request.path}
    if not form.is_valid():
        return render(request, "analytics/dash/cohorts.html", ctx)
    data = form.cleaned_data
    filters = form.metric_filters()
    table = cohort_table(filters, source="auto")
    cohorts = [c for c in table["cohorts"] if c["cohort"] <= data["to"]]
    if wants_csv(request):
        return _csv(form, cohorts)
    this_month = month_start(timezone.localdate())
    metric = data["metric"]
    width = max((len(c["months"]) for c in cohorts), default=0)
    curve = _average_curve(cohorts, this_month)
    by_offset = {point["offset"]: point["retention"] for point in curve}
    shown = dict(request.GET.items())
    shown.update({k: data[k].strftime("%Y-%m") for k in ("from", "to")})
    ctx.update(
        form=CohortsFilterForm(shown),
        metric=metric,
        metric_label=dict(METRICS)[metric],
        heatmap=_heatmap(cohorts, metric, width, this_month),
        offsets=list(range(width)),
        curve=curve,
        average_row=[by_offset.get(k) for k in range(width)],
        chart=_chart(curve) if len(curve) > 1 else None,
        period=(data["from"], data["to"]),
        metric_tabs=[
            {
                "label": label,
                "url": f"?{_query(request, metric=value)}",
                "active": value == metric,
            }
            for value, label in METRICS
        ],
        csv_url=f"?{_query(request, format='csv')}",
        reset_url=f"{request.path}?{urlencode({'metric': metric})}",
        filtered=any(request.GET.get(k) for k in ("from", "to", "segment")),
        rollups_empty=not cohorts
        and filters.segment_id is None
        and not CohortActivity.objects.exists(),
    )
    return render(request, "analytics/dash/cohorts.html", ctx)
