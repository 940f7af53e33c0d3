"""The broadcast wizard's form: audience, content, timing, A/B variants, conversion window.

The form only turns the POST into the services' arguments; the rules live in
`broadcast_validate`, whose BroadcastError names the field the form shows it on (`error_field`).
"""

from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext_lazy as _

from campaigns.broadcasts.models import AbMetric, RecipientGroup, RecipientState, Timing
from campaigns.broadcasts.services.setup import VARIANT_KEYS, VariantSpec
from campaigns.journeys.extensions import survey_choices
from campaigns.message_templates.models import Template
from campaigns.promo.models import PromoPool
from customers.models import Channel, Segment
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

SENDABLE = [c for c in Channel.values if c != "voice"]
ORDER_SLOTS = 3
# A BroadcastError's field → the form field that shows it.
ERROR_FIELDS = {"channel_order": "order_1", "variants": "ab", "status": None}


def _channel_choices():
    return [(c, CHANNEL_LABELS[c]) for c in SENDABLE]


class SegmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(name)s (%(count)s members)") % {
            "name": obj.name,
            "count": intcomma(obj.member_count),
        }


class BroadcastForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    # Audience
    segment = SegmentChoice(
        label=_("Segment"), queryset=Segment.objects.order_by("name"), empty_label=_("Choose…")
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        initial="email",
        help_text=_("One channel for everyone, or each customer's preferred channel."),
    )
    order_1 = forms.ChoiceField(label=_("Fallback 1"), required=False)
    order_2 = forms.ChoiceField(label=_("Fallback 2"), required=False)
    order_3 = forms.ChoiceField(label=_("Fallback 3"), required=False)
    holdout_percent = forms.IntegerField(
        label=_("Holdout, %"),
        min_value=0,
        max_value=50,
        initial=0,
        help_text=_("A random share that gets nothing, to measure the real uplift (0–50 %)."),
    )
    # Content
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=Template.objects.none(),
        empty_label=_("Choose…"),
        required=False,
    )
    survey = forms.TypedChoiceField(
        label=_("Or a survey"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "NPS, CSAT or CES instead of a template: on one channel or each customer's best one; "
            "no A/B test, promo codes or local time."
        ),
    )
    promo_pool = forms.ModelChoiceField(
        label=_("Promo code pool"),
        queryset=PromoPool.objects.none(),
        required=False,
        empty_label=_("No promo codes"),
        help_text=_("Each message gets its own code, shown by {{ promo.code }} in the template."),
    )
    # Timing
    timing = forms.ChoiceField(
        label=_("When"), choices=Timing.choices, initial=Timing.NOW, widget=forms.RadioSelect
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    local_time = forms.TimeField(
        label=_("Local time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    # A/B
    ab = forms.BooleanField(label=_("Run an A/B test"), required=False)
    test_percent = forms.IntegerField(
        label=_("Test share, %"),
        min_value=0,
        max_value=100,
        initial=20,
        required=False,
        help_text=_(
            "This share of the audience (outside the holdout) is split between the variants; "
            "the rest gets the winner."
        ),
    )
    ab_metric = forms.ChoiceField(
        label=_("Winner metric"), choices=AbMetric.choices, initial=AbMetric.CLICKED
    )
    test_hours = forms.IntegerField(
        label=_("Test duration, hours"), min_value=1, max_value=168, initial=4
    )
    conversion_days = forms.IntegerField(
        label=_("Conversion window, days"),
        min_value=1,
        max_value=90,
        initial=7,
        help_text=_("An order placed this many days after the message counts as a conversion."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels = _channel_choices()
        self.fields["channel"].choices = [
            ("", _("Preferred channel, with a fallback order")),
            *channels,
        ]
        for slot in range(1, ORDER_SLOTS + 1):
            self.fields[f"order_{slot}"].choices = [("", "—"), *channels]
        self.fields["order_1"].label = _("First choice")
        self.fields["order_1"].help_text = _(
            "A customer gets the first of these channels they can be reached on, their own "
            "preferred channel first."
        )
        self.fields["order_2"].label = _("Then")
        self.fields["order_3"].label = _("Then")
        templates = Template.objects.filter(
            category="marketing", archived_at__isnull=True
        ).order_by("name")
        self.fields["template"].queryset = templates
        self.fields["survey"].choices = [
            ("", _("No survey")),
            *((c.id, f"{c.name} · {c.kind.upper()}") for c in survey_choices()),
        ]
        self.fields["promo_pool"].queryset = PromoPool.objects.filter(
            archived_at__isnull=True
        ).order_by("name")
        for key in VARIANT_KEYS:
            k = key.lower()
            self.fields[f"v{k}_use"] = forms.BooleanField(
                label=_("Variant %(key)s") % {"key": key}, required=False, initial=key in "AB"
            )
            self.fields[f"v{k}_template"] = forms.ModelChoiceField(
                label=_("Template"),
                queryset=templates,
                required=False,
                empty_label=_("Same as the broadcast"),
            )
            self.fields[f"v{k}_subject"] = forms.CharField(
                label=_("Subject"), max_length=998, required=False
            )
            self.fields[f"v{k}_channel"] = forms.ChoiceField(
                label=_("Channel"),
                required=False,
                choices=[("", _("Same as the broadcast")), *channels],
            )

    def variant_rows(self):
        """[(key, use, template, subject, channel)] bound fields, for the variants table."""
        return [
            (key, *(self[f"v{key.lower()}_{n}"] for n in ("use", "template", "subject", "channel")))
            for key in VARIANT_KEYS
        ]

    def fallback_fields(self):
        return [self[f"order_{slot}"] for slot in range(1, ORDER_SLOTS + 1)]

    def clean(self):
        data = super().clean()
        if data.get("ab") and not data.get("test_percent"):
            self.add_error("test_percent", _("Give the test a share above 0 %."))
        if data.get("template") and data.get("survey"):
            self.add_error("survey", _("Send a template or a survey, not both."))
        elif (
            "template" in data and "survey" in data and not data["template"] and not data["survey"]
        ):
            self.add_error("template", _("Choose a template, or a survey below."))
        return data

    def service_kwargs(self) -> dict:
        """The arguments of broadcast_create / broadcast_update, from the cleaned data."""
        data = self.cleaned_data
        order = [data[f"order_{s}"] for s in range(1, ORDER_SLOTS + 1) if data[f"order_{s}"]]
        variants = None
        if data["ab"]:
            variants = [
                VariantSpec(
                    template=data[f"v{key.lower()}_template"],
                    subject=data[f"v{key.lower()}_subject"],
                    channel=data[f"v{key.lower()}_channel"],
                )
                for key in VARIANT_KEYS
                if data[f"v{key.lower()}_use"]
            ]
        timing = data["timing"]
        return {
            "name": data["name"],
            "segment": data["segment"],
            "channel": data["channel"],
            "channel_order": [] if data["channel"] else order,
            "holdout_percent": data["holdout_percent"],
            "template": data["template"],
            "survey_id": data["survey"],
            "promo_pool": data["promo_pool"],
            "timing": timing,
            "send_at": data["send_at"] if timing == Timing.AT else None,
            "local_time": data["local_time"] if timing == Timing.LOCAL else None,
            "test_percent": (data["test_percent"] or 0) if data["ab"] else 0,
            "ab_metric": data["ab_metric"],
            "test_hours": data["test_hours"],
            "conversion_days": data["conversion_days"],
            "variants": variants or [VariantSpec()],
        }

    def error_field(self, field: str) -> str | None:
        """The form field a BroadcastError on `field` is shown on (None: the whole form)."""
        name = ERROR_FIELDS.get(field, field)
        return name if name in self.fields else None


def broadcast_initial(broadcast) -> dict:
    """The form's initial data for a saved draft."""
    order = list(broadcast.channel_order or [])
    initial = {
        "name": broadcast.name,
        "segment": broadcast.segment_id,
        "channel": broadcast.channel,
        "holdout_percent": broadcast.holdout_percent,
        "template": broadcast.template_id,
        "survey": broadcast.survey_id,
        "promo_pool": broadcast.promo_pool_id,
        "timing": broadcast.timing,
        "send_at": broadcast.send_at,
        "local_time": broadcast.local_time,
        "ab": broadcast.is_ab,
        "test_percent": broadcast.test_percent or 20,
        "ab_metric": broadcast.ab_metric,
        "test_hours": broadcast.test_hours,
        "conversion_days": broadcast.conversion_days,
    }
    for slot in range(1, ORDER_SLOTS + 1):
        initial[f"order_{slot}"] = order[slot - 1] if len(order) >= slot else ""
    if broadcast.is_ab:
        variants = {v.key: v for v in broadcast.variants.all()}
        for key in VARIANT_KEYS:
            v = variants.get(key)
            k = key.lower()
            initial[f"v{k}_use"] = v is not None
            if v is not None:
                initial[f"v{k}_template"] = v.template_id
                initial[f"v{k}_subject"] = v.subject
                initial[f"v{k}_channel"] = v.channel
    return initial


class RecipientFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any state")), *RecipientState.choices]
        self.fields["group"].choices = [("", _("Any group")), *RecipientGroup.choices]
