import re

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.loyalty.models import Rounding

_BONUS_LINE = re.compile(r"^([a-z0-9_.:-]{1,100})\s*=\s*(\d{1,7})$")


def bonuses_text(bonuses: dict) -> str:
    return "\n".join(f"{name} = {points}" for name, points in sorted(bonuses.items()))


class RateField(forms.DecimalField):
    """A small rate (at most 1,000): a comma is always the decimal mark, in every language.

    Localised parsing would read "0,05" typed in English as 5 (a thousands separator)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


class LoyaltySettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Earn points on completed orders and event bonuses"), required=False
    )
    points_per_unit = RateField(
        label=_("Points per currency unit"),
        min_value=0,
        max_value=1000,
        max_digits=8,
        decimal_places=2,
        localize=True,  # shown as "0,05" in Russian
        help_text=_("Of a completed order's total, e.g. 0.05 = 5 points per 100 ₽."),
    )
    rounding = forms.ChoiceField(label=_("Rounding"), choices=Rounding.choices)
    batch_lifetime_days = forms.IntegerField(
        label=_("Points last (days)"),
        min_value=1,
        max_value=3650,
        help_text=_("Each earning expires this many days after it was earned."),
    )
    event_bonuses = forms.CharField(
        label=_("Bonuses per event"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: event name = points, e.g. birthday = 200, first_order = 100."),
    )
    warn_min_points = forms.IntegerField(
        label=_("Warn when at least (points)"), min_value=1, max_value=10_000_000
    )
    warn_within_days = forms.IntegerField(
        label=_("…expire within (days)"), min_value=1, max_value=365
    )

    def clean_event_bonuses(self) -> dict:
        bonuses = {}
        for number, line in enumerate(self.cleaned_data["event_bonuses"].splitlines(), 1):
            line = line.strip().lower()
            if not line:
                continue
            match = _BONUS_LINE.match(line)
            if match is None:
                raise forms.ValidationError(
                    _("Line %(n)s: write it as event_name = points."), params={"n": number}
                )
            bonuses[match[1]] = int(match[2])
        return bonuses


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text=_("Positive adds, negative takes away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_points(self) -> int:
        if self.cleaned_data["points"] == 0:
            raise forms.ValidationError(_("Enter a number other than zero."))
        return self.cleaned_data["points"]
