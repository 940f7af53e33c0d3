"""Forms of the survey pages: the definition (texts per language), sending, and the results'
filters. They only check and shape input; the services in analytics.surveys decide."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models.surveys import SurveyKind
from analytics.surveys.scores import GRAINS, ScoreFilter
from customers.models import Channel, Customer, Segment

LANGUAGES = (("ru", _("Russian")), ("en", _("English")), ("ro", _("Romanian")))
TEXTS = (
    ("question", _("Question")),
    ("follow_up", _("Follow-up “why?” question")),
    ("thanks", _("Thank-you")),
)
# Surveys go on the channels a customer can answer on (not voice calls).
SEND_CHANNELS = [c for c in Channel if c != Channel.VOICE]
TEXT_MAX_LENGTH = 500
DEFAULT_DAYS = 365


class SurveyForm(forms.Form):
    """A survey's name, kind (new surveys only: answers are stored on its scale), its texts in
    each language and what a detractor's answer does. Blank texts take the kind's preset."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (SurveyKind.NPS, _("NPS: likely to recommend, 0–10")),
            (SurveyKind.CSAT, _("CSAT: satisfaction, 1–5")),
            (SurveyKind.CES, _("CES: ease, 1–7")),
        ],
    )
    open_conversation_on_detractor = forms.BooleanField(
        label=_("Open a support conversation when a detractor answers"), required=False
    )

    def __init__(self, *args, survey=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        for field, _label in TEXTS:
            for code, language in LANGUAGES:
                # The fieldset's legend names the text; each input is one language of it.
                self.fields[f"{field}_{code}"] = forms.CharField(
                    label=language,
                    max_length=TEXT_MAX_LENGTH,
                    required=survey is not None,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
        if survey is not None:
            del self.fields["kind"]
            self.initial.update(
                name=survey.name,
                open_conversation_on_detractor=survey.open_conversation_on_detractor,
            )
            for field, _label in TEXTS:
                for code, _language in LANGUAGES:
                    self.initial[f"{field}_{code}"] = getattr(survey, field).get(code, "")

    def groups(self) -> list[dict]:
        """The text fields per text, for a fieldset each."""
        return [
            {"label": label, "fields": [self[f"{field}_{code}"] for code, _l in LANGUAGES]}
            for field, label in TEXTS
        ]

    def texts(self) -> dict[str, dict[str, str]]:
        """{"question": {"ru": …}, …} with the languages given (blank ones left to the preset)."""
        data = self.cleaned_data
        return {
            field: {
                code: data[f"{field}_{code}"].strip()
                for code, _l in LANGUAGES
                if data.get(f"{field}_{code}", "").strip()
            }
            for field, _label in TEXTS
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """A service's ValidationError on the form: text errors go to the field's first input."""
        for field, messages in errors.items():
            target = field if field in self.fields else None
            if field in dict(TEXTS):
                target = f"{field}_ru"
            for message in messages:
                self.add_error(target, message)


class SurveySendForm(forms.Form):
    """To one customer (by their CRM id) or to a segment's members; the channel is optional."""

    customer = forms.CharField(
        label=_("Customer’s CRM id"),
        required=False,
        max_length=255,
        help_text=_("The external id, as on the customer’s page."),
    )
    segment = forms.ModelChoiceField(
        label=_("Or a segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label=_("—"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Each customer’s best channel"))]
        + [(c.value, c.label) for c in SEND_CHANNELS],
    )

    def clean(self):
        data = super().clean()
        external_id = (data.get("customer") or "").strip()
        segment = data.get("segment")
        if bool(external_id) == bool(segment):
            self.add_error("customer", _("Give either a customer’s CRM id or a segment."))
            return data
        if external_id:
            customer = Customer.objects.filter(
                external_id=external_id, erased_at__isnull=True
            ).first()
            if customer is None:
                self.add_error("customer", _("No customer has this CRM id."))
            data["customers"] = [customer] if customer else []
        return data

    def customers(self):
        """The chosen customer, or the segment's members (a queryset, read in chunks)."""
        if self.cleaned_data.get("segment"):
            segment = self.cleaned_data["segment"]
            return Customer.objects.filter(
                segment_memberships__segment=segment, erased_at__isnull=True
            ).order_by("pk")
        return self.cleaned_data["customers"]


class ResultsFilterForm(forms.Form):
    """The results page's GET filters. Bad values fall back to the defaults, shown on the field."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    grain = forms.ChoiceField(
        label=_("By"),
        required=False,
        initial="month",
        choices=[("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels"))] + [(c.value, c.label) for c in SEND_CHANNELS],
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label=_("All customers"),
    )

    FIELDS = ("start", "end", "grain", "channel", "segment")

    def __init__(self, query, *args, **kwargs):
        """Bound to the query string's own filters only (other parameters, such as the
        breakdown's `by`, leave it unbound, so the defaults show)."""
        given = {k: query[k] for k in self.FIELDS if query.get(k)}
        if given:
            given.setdefault("grain", "month")
        super().__init__(given or None, *args, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        return data

    def values(self) -> tuple[ScoreFilter, str]:
        """The score filter (dates as the viewer's local midnights, the end day included) and
        the grain; defaults for anything missing or invalid: the last year, by month."""
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate()
        start: date = data.get("start") or today - timedelta(days=DEFAULT_DAYS)
        end: date = data.get("end") or today
        segment = data.get("segment")
        grain = data.get("grain") or "month"
        return (
            ScoreFilter(
                start=_midnight(start),
                end=_midnight(end + timedelta(days=1)),
                channel=data.get("channel") or None,
                segment_id=segment.pk if segment else None,
            ),
            grain if grain in GRAINS else "month",
        )


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
