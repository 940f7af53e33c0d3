"""Forms of the inbox pages: snooze, reply, note, canned responses."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.models import CannedResponse

SNOOZE_PRESETS = [
    ("1h", _("For 1 hour")),
    ("tomorrow", _("Until tomorrow, 9:00")),
    ("custom", _("Until…")),
]


def snooze_until(preset: str, custom: datetime | None, now: datetime | None = None):
    """The moment a preset means, in the staff member's time zone (the active one)."""
    now = now or timezone.now()
    if preset == "1h":
        return now + timedelta(hours=1)
    if preset == "tomorrow":
        local = timezone.localtime(now)
        day = local.date() + timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time(9, 0)), local.tzinfo)
    return custom


class SnoozeForm(forms.Form):
    preset = forms.ChoiceField(label=_("Snooze"), choices=SNOOZE_PRESETS)
    until = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        until = snooze_until(data["preset"], data.get("until"))
        if until is None:
            self.add_error("until", _("Choose the date and time to snooze until."))
        elif until <= timezone.now():
            self.add_error("until", _("The snooze time must be in the future."))
        data["until_at"] = until
        return data


class ReplyForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False, max_length=998)
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Private note"), widget=forms.Textarea(attrs={"rows": 2}))


class CannedForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["shortcode", "body"]
        labels = {"shortcode": _("Shortcode"), "body": _("Text")}
        help_texts = {
            "shortcode": _("Letters, digits, - and _. Type / and the shortcode in a reply."),
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
        error_messages = {
            "shortcode": {"unique": _("A canned response with this shortcode already exists.")}
        }
