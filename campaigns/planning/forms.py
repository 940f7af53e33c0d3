"""Forms for the planning pages. They check shapes; the services check the rules (a link's
target exists, a stage belongs to the scheme) and their errors are put back on these fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.broadcasts.models import Broadcast
from campaigns.message_templates.models import Template
from campaigns.planning.models import LinkKind, Scheme
from campaigns.planning.services import journey_model
from customers.models import Channel, Segment
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

OPTIONS_LIMIT = 200  # per kind, newest first, in the target pickers


def _channel_choices() -> list[tuple[str, str]]:
    return [(value, CHANNEL_LABELS.get(value, label)) for value, label in Channel.choices]


def _split_offline(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


class ChannelsMixin(forms.Form):
    """Digital channels as checkboxes, offline ones ("store, call centre") as free text."""

    channels = forms.MultipleChoiceField(
        label=_("Channels"), required=False, widget=forms.CheckboxSelectMultiple
    )
    offline_channels = forms.CharField(
        label=_("Other channels"),
        required=False,
        max_length=400,
        help_text=_("Offline or other channels, separated by commas: store, call centre."),
    )

    def _channels_init(self, current: list[str] | None) -> None:
        self.fields["channels"].choices = _channel_choices()
        if current is not None:
            self.initial.setdefault("channels", [c for c in current if c in Channel.values])
            self.initial.setdefault(
                "offline_channels", ", ".join(c for c in current if c not in Channel.values)
            )

    def channels_value(self) -> list[str]:
        data = self.cleaned_data
        return [*data.get("channels", []), *_split_offline(data.get("offline_channels", ""))]


class CjmForm(ChannelsMixin):
    name = forms.CharField(label=_("Name"), max_length=200)
    audience = forms.CharField(
        label=_("Product or audience"),
        max_length=200,
        required=False,
        help_text=_("Whose journey this is: a product line or a group of customers."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    field_order = ["name", "audience", "description", "channels", "offline_channels"]

    def __init__(self, *args, channels: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._channels_init(channels)


def _segments():
    return Segment.objects.order_by("name")


class StageForm(forms.Form):
    name = forms.CharField(label=_("Stage"), max_length=100)
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("The customers who are at this stage now."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = _segments()


class CellForm(forms.Form):
    touchpoints = forms.CharField(
        label=_("Touchpoints"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    goal = forms.CharField(
        label=_("Customer's goal"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    expectations = forms.CharField(
        label=_("Expectations"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    barriers = forms.CharField(
        label=_("Barriers"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    solutions = forms.CharField(
        label=_("Solutions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def target_choices(*, journeys: bool = True) -> list:
    """Grouped options "kind:id" for the link and content pickers, newest first."""
    groups = [
        (
            _("Templates"),
            [
                (f"template:{pk}", name)
                for pk, name in Template.objects.filter(archived_at__isnull=True)
                .order_by("-id")
                .values_list("pk", "name")[:OPTIONS_LIMIT]
            ],
        ),
        (
            _("Broadcasts"),
            [
                (f"broadcast:{pk}", name)
                for pk, name in Broadcast.objects.order_by("-id").values_list("pk", "name")[
                    :OPTIONS_LIMIT
                ]
            ],
        ),
    ]
    journey = journey_model()
    if journeys and journey is not None:
        rows = journey.objects.order_by("-id").values_list("pk", "name")[:OPTIONS_LIMIT]
        groups.append((_("Journeys"), [(f"journey:{pk}", name) for pk, name in rows]))
    return [("", _("— choose —")), *[g for g in groups if g[1]]]


class TargetField(forms.ChoiceField):
    """A "kind:id" choice, cleaned into (kind, id); the service checks the target exists."""

    def clean(self, value):
        value = super().clean(value)
        kind, _sep, pk = (value or "").partition(":")
        if kind not in LinkKind.values or not pk.isdigit():
            raise forms.ValidationError(_("Choose a template, a broadcast or a journey."))
        return kind, int(pk)


class LinkForm(forms.Form):
    target = TargetField(label=_("Carried out by"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()


class StrategyForm(ChannelsMixin):
    name = forms.CharField(label=_("Name"), max_length=200)
    scheme = forms.ChoiceField(
        label=_("Scheme"),
        choices=Scheme.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "AIDA: attention, interest, desire, action. ACCA: awareness, comprehension, "
            "conviction, action. AIDMA: AIDA with memory before the action."
        ),
    )
    segments = forms.ModelMultipleChoiceField(
        label=_("Target segments"),
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    audience = forms.CharField(
        label=_("To whom"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who they are, what they value, what they already know of us."),
    )
    goal = forms.CharField(
        label=_("Why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The goal: specific, measurable, realistic."),
    )
    timing = forms.CharField(
        label=_("When"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Moments, triggers and frequency."),
    )
    tone = forms.CharField(
        label=_("How: tone of voice"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = [
        "name", "scheme", "segments", "audience", "goal", "timing", "tone",
        "channels", "offline_channels",
    ]  # fmt: skip

    def __init__(self, *args, channels: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segments"].queryset = _segments()
        self._channels_init(channels)
        self.fields["channels"].label = _("How: channels")


class ContentForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"))
    target = TargetField(label=_("Content"))
    step_id = forms.CharField(
        label=_("Journey step id"),
        max_length=64,
        required=False,
        help_text=_("For a journey: the id of the step that sends the message."),
    )

    def __init__(self, *args, stages: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = stages
        self.fields["target"].choices = target_choices()

    def content_kind(self) -> tuple[str, int, str]:
        kind, object_id = self.cleaned_data["target"]
        return (
            ("journey_step" if kind == "journey" else kind),
            object_id,
            self.cleaned_data["step_id"],
        )
