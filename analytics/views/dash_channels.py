"""Channel performance: sent → delivered → opened → clicked → converted per channel, the rates
between the stages and the SMS cost, as charts, a table and a CSV of that table.

The numbers are `analytics.metrics.channels.channels_funnel` as it returns them (the API's
/api/v1/metrics/channels shows the same); this view only checks the filters and lays them out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from analytics.forms import channel_choices, segment_choices
from analytics.metrics.channels import channels_funnel
from analytics.metrics.filters import MetricFilters
from analytics.models import DailyChannelRollup
from analytics.views.export import csv_response, wants_csv
from workspace.permissions import staff_permission_required
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

DEFAULT_DAYS = 90
MAX_DAYS = 731  # conversion reads the messages of the period, so two years at most
DEFAULT_WINDOW_DAYS = 7

# (key in the service's row, label): the funnel's stages in order.
STAGES = [
    ("sent", gettext_lazy("Sent")),
    ("delivered", gettext_lazy("Delivered")),
    ("opened", gettext_lazy("Opened")),
    ("clicked", gettext_lazy("Clicked")),
    ("converted", gettext_lazy("Customers converted")),
]
RATES = [
    ("delivery_rate", gettext_lazy("Delivery rate"), gettext_lazy("delivered of sent")),
    ("open_rate", gettext_lazy("Open rate"), gettext_lazy("opened of delivered")),
    ("click_rate", gettext_lazy("Click rate"), gettext_lazy("clicked of opened")),
    (
        "conversion_rate",
        gettext_lazy("Conversion rate"),
        gettext_lazy("customers who ordered, of those sent a message"),
    ),
]
CSV_COLUMNS = [
    "channel",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "failed",
    "recipients",
    "converted",
    "delivery_rate",
    "open_rate",
    "click_rate",
    "conversion_rate",
    "sms_parts",
    "cost_per_part",
    "cost",
    "cost_currency",
    "cost_per_conversion",
]


class ChannelsFilterForm(forms.Form):
    """Period (days, both included; the last 90 by default), channel, segment, and how many days
    after a message an order still counts as its conversion."""

    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), required=False)
    window_days = forms.IntegerField(
        label=gettext_lazy("Conversion window, days"),
        min_value=1,
        max_value=365,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": DEFAULT_WINDOW_DAYS}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a keyword in Python, so the period's fields are added by name.
        for name, label in (("from", gettext_lazy("From")), ("to", gettext_lazy("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        self.fields["channel"].choices = channel_choices(gettext_lazy("All channels"))
        self.fields["segment"].choices = segment_choices(gettext_lazy("All customers"))
        self.order_fields(["from", "to", "channel", "segment", "window_days"])

    def clean(self) -> dict:
        data = super().clean()
        if "from" in self.errors or "to" in self.errors:
            return data
        end = data.get("to") or timezone.localdate()
        start = data.get("from") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("from", _("The start must not be after the end."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("from", _("The period may be at most two years long."))
        data["from"], data["to"] = start, end
        data["window_days"] = data.get("window_days") or DEFAULT_WINDOW_DAYS
        return data

    def metric_filters(self) -> MetricFilters:
        data = self.cleaned_data
        return MetricFilters(
            date_from=data["from"],
            date_to=data["to"],
            channel=data["channel"] or None,
            segment_id=int(data["segment"]) if data["segment"] else None,
        )


def _cost_per_conversion(row: dict) -> Decimal | None:
    if row["cost"] is None or not row["converted"]:
        return None
    return (row["cost"] / row["converted"]).quantize(Decimal("0.01"))


def _chart(row: dict) -> dict:
    """One channel's funnel: messages at each stage, then the customers who ordered."""
    return {
        "labels": [str(label) for _key, label in STAGES],
        "datasets": [
            {
                "label": str(CHANNEL_LABELS.get(row["channel"], row["channel"])),
                "tone": "accent",
                "data": [row[key] for key, _label in STAGES],
            }
        ],
    }


def _rows(filters: MetricFilters, window_days: int) -> list[dict]:
    rows = channels_funnel(filters, window_days=window_days, source="auto")
    for row in rows:
        row["label"] = CHANNEL_LABELS.get(row["channel"], row["channel"])
        row["cost_per_conversion"] = _cost_per_conversion(row)
        row["chart"] = _chart(row)
        row["chart_id"] = f"dc-chart-{row['channel']}"
        row["caption"] = _("%(channel)s: messages at each stage, then customers converted") % {
            "channel": row["label"]
        }
        row["rates"] = [
            {"label": label, "hint": hint, "value": row[key]} for key, label, hint in RATES
        ]
    return rows


def _csv(form: ChannelsFilterForm, rows: list[dict]):
    data = form.cleaned_data
    body = [[row[column] for column in CSV_COLUMNS] for row in rows]
    name = f"channels-{data['from']}-{data['to']}.csv"
    return csv_response(name, CSV_COLUMNS, body)


def _query(request, **changes) -> str:
    params = {k: v for k, v in request.GET.items() if v != ""}
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


@require_GET
@staff_permission_required("view_analytics")
def channels_page(request):
    form = ChannelsFilterForm(request.GET)
    ctx = {
        "page": "analytics",
        "form": form,
        "stages": STAGES,
        "rates": RATES,
        "rows": None,
        "reset_url": request.path,
    }
    if not form.is_valid():
        return render(request, "analytics/dash/channels.html", ctx)
    filters = form.metric_filters()
    window_days = form.cleaned_data["window_days"]
    rows = _rows(filters, window_days)
    if wants_csv(request):
        return _csv(form, rows)
    # Show the period the report covers, defaults included, in the date fields.
    shown = dict(request.GET.items())
    shown.update({k: form.cleaned_data[k].isoformat() for k in ("from", "to")})
    shown["window_days"] = window_days
    ctx.update(
        form=ChannelsFilterForm(shown),
        rows=rows,
        filters=filters,
        window_days=window_days,
        csv_url=f"?{_query(request, format='csv')}",
        reset_url=request.path,
        filtered=any(
            request.GET.get(k) for k in ("from", "to", "channel", "segment", "window_days")
        ),
        # With nothing to show for the whole base, say whether the rollups ever ran.
        rollups_empty=not rows and not filters.narrowed and not DailyChannelRollup.objects.exists(),
        sms_price_missing=any(r["sms_parts"] and r["cost"] is None for r in rows),
        can_set_prices=request.user.has_perm("workspace.manage_settings"),
    )
    return render(request, "analytics/dash/channels.html", ctx)
