"""Forms for the forecast and goal pages. They check shapes; the services check the rules and
their refusals are put back on the field they name."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.forecast.service import DEFAULT_ACTIVITY_DAYS
from analytics.goals.service import MAX_WINDOW_DAYS
from analytics.goals.values import GOAL_METRICS
from campaigns.journeys.models import Journey
from campaigns.planning.models import CommunicationStrategy
from customers.models import Channel, Segment
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

FORECAST_METRICS = [
    ("retention", _("Retention")),
    ("conversion", _("Conversion")),
    ("revenue", _("Revenue per active customer")),
]
HORIZONS = [(30, _("1 month")), (90, _("3 months")), (182, _("6 months")), (365, _("1 year"))]
PICKER_LIMIT = 300


def channel_choices(blank_label) -> list[tuple[str, str]]:
    return [("", blank_label)] + [
        (value, CHANNEL_LABELS.get(value, label)) for value, label in Channel.choices
    ]


def segment_choices(blank_label) -> list[tuple[str, str]]:
    segments = Segment.objects.order_by("name").values_list("pk", "name")[:PICKER_LIMIT]
    return [("", blank_label)] + [(str(pk), name) for pk, name in segments]


class ForecastForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=FORECAST_METRICS)
    launch = forms.DateField(
        label=_("Launch date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    horizon_days = forms.TypedChoiceField(
        label=_("Horizon"), choices=HORIZONS, coerce=int, initial=182
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    activity_days = forms.IntegerField(
        label=_("Active means an order within, days"),
        min_value=1,
        max_value=3660,
        initial=DEFAULT_ACTIVITY_DAYS,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channel_choices(_("All channels"))
        self.fields["segment"].choices = segment_choices(_("All customers"))
        self.fields["launch"].initial = timezone.localdate() + dt.timedelta(days=30)

    def clean_segment(self) -> int | None:
        value = self.cleaned_data.get("segment")
        return int(value) if value else None


class ForecastSaveForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)


class GoalForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=200, help_text=_("e.g. Retention in email to 20 %")
    )
    metric = forms.ChoiceField(label=_("Metric"))
    target = forms.FloatField(
        label=_("Target"), help_text=_("Percentages as numbers: 20 means 20 %.")
    )
    deadline = forms.DateField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    window_days = forms.IntegerField(
        label=_("Measured over the last, days"),
        min_value=7,
        max_value=MAX_WINDOW_DAYS,
        initial=90,
        help_text=_("The baseline and every check use a window of this length."),
    )
    strategies = forms.ModelMultipleChoiceField(
        label=_("Strategies that serve it"),
        queryset=CommunicationStrategy.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    journeys = forms.ModelMultipleChoiceField(
        label=_("Journeys that serve it"),
        queryset=Journey.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [
            (key, label) for key, (label, _unit) in GOAL_METRICS.items()
        ]
        self.fields["channel"].choices = channel_choices(_("All channels"))
        self.fields["segment"].choices = segment_choices(_("All customers"))
        self.fields["strategies"].queryset = CommunicationStrategy.objects.order_by("name")
        self.fields["journeys"].queryset = Journey.objects.exclude(status="archived").order_by(
            "name"
        )
        if editing:  # what was measured stays; a new goal measures something else
            for name in ("metric", "segment", "channel", "window_days"):
                self.fields[name].disabled = True

    def clean_segment(self) -> Segment | None:
        value = self.cleaned_data.get("segment")
        if not value:
            return None
        return Segment.objects.filter(pk=value).first()
