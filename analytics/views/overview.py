"""The analytics overview (/app/analytics/): the month-by-month picture, with each chart's table
and a CSV of it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.forms import channel_choices, segment_choices
from analytics.overview import (
    OverviewFilters,
    attributed_by_month,
    clv_by_rfm_cached,
    months_between,
    overview_default_filters,
    sales_by_month,
    scores_by_month,
)
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

MAX_MONTHS = 36
CENT = Decimal("0.01")
TABLES = ("sales", "attributed", "scores", "clv")


class OverviewForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = segment_choices(gettext_lazy("All customers"))
        self.fields["channel"].choices = channel_choices(gettext_lazy("All channels"))

    def clean(self):
        data = super().clean()
        default = overview_default_filters()
        first = data.get("date_from") or default.date_from
        last = data.get("date_to") or default.date_to
        if first > last:
            self.add_error("date_to", _("The end is before the start."))
        elif len(months_between(first, last)) > MAX_MONTHS:
            self.add_error("date_from", _("At most %(n)s months at a time.") % {"n": MAX_MONTHS})
        data["filters"] = OverviewFilters(
            date_from=first.replace(day=1),
            date_to=last,
            segment_id=int(data["segment"]) if data.get("segment") else None,
            channel=data.get("channel") or "",
        )
        return data


def _money(value) -> str:
    return number_format(value or 0, 0, use_l10n=True, force_grouping=True)


def _month_label(month: dt.date) -> str:
    return date_format(month, "M Y")


def overview_context(f: OverviewFilters) -> dict:
    """Everything the page shows: tiles, charts and their tables."""
    months = months_between(f.date_from, f.date_to)
    labels = [_month_label(m) for m in months]
    sales = sales_by_month(f)
    attributed = attributed_by_month(f)
    scores = scores_by_month(f)
    clv = clv_by_rfm_cached()
    return {
        "tiles": _tiles(months, sales),
        "sales": _sales(months, labels, sales),
        "attributed": _attributed(months, labels, attributed),
        "scores": _scores(months, labels, scores),
        "clv": _clv(clv),
    }


def _tiles(months, sales) -> list[dict]:
    total = sum((sales[m]["revenue"] or 0) for m in months)
    orders = sum(sales[m]["orders"] for m in months)
    last = months[-1]
    active_series = [sales[m]["active"] for m in months]
    returning = [
        100 * (sales[m]["active"] - sales[m]["new"]) / sales[m]["active"]
        if sales[m]["active"]
        else 0
        for m in months
    ]
    return [
        {
            "label": _("Revenue"),
            "value": _money(total),
            "series": [float(sales[m]["revenue"] or 0) for m in months],
            "sub": _("by month"),
        },
        {
            "label": _("Orders"),
            "value": number_format(orders, 0, use_l10n=True, force_grouping=True),
            "series": [sales[m]["orders"] for m in months],
            "sub": _("Average order value %(aov)s")
            % {"aov": _money(total / orders if orders else 0)},
        },
        {
            "label": _("Active customers in %(month)s") % {"month": _month_label(last)},
            "value": number_format(sales[last]["active"], 0, use_l10n=True, force_grouping=True),
            "series": active_series,
            "sub": _("ordered that month"),
        },
        {
            "label": _("Returning customers in %(month)s") % {"month": _month_label(last)},
            "value": f"{number_format(returning[-1], 1, use_l10n=True)} %",
            "series": returning,
            "sub": _("share of the month's buyers who had bought before"),
        },
    ]


def _sales(months, labels, sales) -> dict:
    rows = [
        [
            label,
            sales[m]["orders"],
            Decimal(sales[m]["revenue"] or 0).quantize(CENT),
            sales[m]["active"],
            sales[m]["new"],
            sales[m]["active"] - sales[m]["new"],
        ]
        for m, label in zip(months, labels, strict=True)
    ]
    return {
        "revenue_chart": {
            "labels": labels,
            "datasets": [
                {"label": _("Revenue"), "data": [float(r[2]) for r in rows], "tone": "accent"}
            ],
        },
        "customers_chart": {
            "labels": labels,
            "datasets": [
                {"label": _("New customers"), "data": [r[4] for r in rows], "tone": "info"},
                {"label": _("Returning customers"), "data": [r[5] for r in rows], "tone": "ok"},
            ],
        },
        "header": [
            _("Month"),
            _("Orders"),
            _("Revenue"),
            _("Active customers"),
            _("New"),
            _("Returning"),
        ],
        "rows": rows,
    }


def _attributed(months, labels, attributed) -> dict:
    channels = sorted(attributed)
    tones = ["accent", "ok", "warn", "violet", "danger", "info", "neutral"]
    datasets = [
        {
            "label": CHANNEL_LABELS.get(channel, channel),
            "data": [float(attributed[channel].get(m, 0)) for m in months],
            "tone": tones[i % len(tones)],
        }
        for i, channel in enumerate(channels)
    ]
    rows = [
        [label, *[attributed[c].get(m, 0) for c in channels]]
        for m, label in zip(months, labels, strict=True)
    ]
    header = [_("Month"), *[CHANNEL_LABELS.get(c, c) for c in channels]]
    return {
        "chart": {"labels": labels, "datasets": datasets},
        "header": header,
        "rows": rows,
        "any": bool(channels),
    }


def _scores(months, labels, scores) -> dict:
    names = {"nps": "NPS", "csat": "CSAT", "ces": _("CES (net)")}
    tones = {"nps": "accent", "csat": "ok", "ces": "violet"}
    datasets, rows = [], []
    for kind, name in names.items():
        values = [scores[kind].get(m) for m in months]
        if any(v is not None for v in values):
            datasets.append(
                {
                    "label": name,
                    "data": [
                        round(v.score, 1) if v and v.score is not None else None for v in values
                    ],
                    "tone": tones[kind],
                }
            )
    for m, label in zip(months, labels, strict=True):
        row = [label]
        for kind in names:
            s = scores[kind].get(m)
            row += [round(s.score, 1) if s and s.score is not None else "", s.responses if s else 0]
        rows.append(row)
    header = [
        _("Month"),
        "NPS",
        _("NPS answers"),
        "CSAT",
        _("CSAT answers"),
        _("CES (net)"),
        _("CES answers"),
    ]
    return {
        "chart": {"labels": labels, "datasets": datasets},
        "header": header,
        "rows": rows,
        "any": bool(datasets),
    }


def _clv(rows: list[dict]) -> dict:
    from workspace.templatetags.customer_tags import rfm_label

    labels = [rfm_label(r["rfm_segment"]) if r["rfm_segment"] else _("No RFM score") for r in rows]
    table = [
        [
            label,
            r["customers"],
            round(r["avg_historic"] or 0, 2),
            round(r["avg_clv_12m"] or 0, 2),
            round((r["avg_p_alive"] or 0) * 100, 1),
        ]
        for label, r in zip(labels, rows, strict=True)
    ]
    return {
        "chart": {
            "labels": labels,
            "datasets": [
                {
                    "label": _("Average revenue so far"),
                    "data": [float(r[2]) for r in table],
                    "tone": "neutral",
                },
                {
                    "label": _("Average predicted CLV, 12 months"),
                    "data": [float(r[3]) for r in table],
                    "tone": "accent",
                },
            ],
        },
        "header": [
            _("RFM segment"),
            _("Customers"),
            _("Average revenue so far"),
            _("Average predicted CLV, 12 months"),
            _("P(alive), %"),
        ],
        "rows": table,
        "any": bool(rows),
    }
