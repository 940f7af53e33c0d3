"""The report's filters, one form for the page and the API: model, grouping, period, channel,
segment. The period is whole days in the current time zone, both ends included."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.attribution.reports import ReportFilter
from analytics.models.attribution import AttributionModel, TouchRule
from channels.message_log import CHANNEL_LABELS
from customers.models import Segment

DEFAULT_DAYS = 30
MAX_DAYS = 731

GROUP_CHOICES = [
    ("broadcast", _("Broadcasts")),
    ("journey", _("Journeys")),
    ("step", _("Journey steps")),
    ("channel", _("Channels")),
    ("template", _("Templates")),
]


class AttributionFilterForm(forms.Form):
    model = forms.ChoiceField(
        label=_("Attribution model"), choices=AttributionModel.choices, required=False
    )
    group_by = forms.ChoiceField(label=_("Group by"), choices=GROUP_CHOICES, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("All channels")), *CHANNEL_LABELS.items()],
        required=False,
    )
    segment = forms.TypedChoiceField(
        label=_("Segment"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a keyword in Python, so the period's fields are added by name.
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        self.fields["segment"].choices = [
            ("", _("All customers")),
            *Segment.objects.order_by("name").values_list("pk", "name"),
        ]
        self.order_fields(["model", "group_by", "from", "to", "channel", "segment"])

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        end = data.get("to") or today
        start = data.get("from") or end - timedelta(days=DEFAULT_DAYS - 1)
        if "from" not in self.errors and "to" not in self.errors:
            if start > end:
                self.add_error("from", _("The start must not be after the end."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("from", _("The period may be at most two years long."))
        data["from"], data["to"] = start, end
        data["model"] = data.get("model") or AttributionModel.LAST_TOUCH
        data["group_by"] = data.get("group_by") or "channel"
        return data

    def report_filter(self) -> ReportFilter:
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        return ReportFilter(
            model=data["model"],
            start=timezone.make_aware(datetime.combine(data["from"], time.min), zone),
            end=timezone.make_aware(
                datetime.combine(data["to"] + timedelta(days=1), time.min), zone
            ),
            channel=data.get("channel") or "",
            segment_id=data.get("segment"),
        )


class ChannelSettingForm(forms.Form):
    """One channel's touch rule and window, changed by staff who manage analytics."""

    channel = forms.ChoiceField(label=_("Channel"), choices=list(CHANNEL_LABELS.items()))
    touch = forms.ChoiceField(label=_("Counts as a touch"), choices=TouchRule.choices)
    window_hours = forms.IntegerField(label=_("Window, hours"), min_value=1, max_value=24 * 30)
