"""Form pieces the journey forms share: a duration typed as a number and a unit, JSON text, and
turning pydantic's errors into errors on the form's own fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from campaigns.journeys.definition import CHANNELS, MAX_WAIT_SECONDS
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

UNITS = (("86400", _("days")), ("3600", _("hours")), ("60", _("minutes")), ("1", _("seconds")))


class DurationWidget(forms.MultiWidget):
    template_name = "campaigns/journeys/_duration_widget.html"

    def __init__(self, attrs=None):
        super().__init__(
            [
                forms.NumberInput(attrs={"min": 0, "step": 1, "class": "jr-dur-n"}),
                forms.Select(choices=UNITS, attrs={"class": "jr-dur-u"}),
            ],
            attrs,
        )

    def decompress(self, value):
        if value in (None, ""):
            return [None, "3600"]
        seconds = int(value)
        for unit, _label in UNITS:
            if seconds and seconds % int(unit) == 0:
                return [seconds // int(unit), unit]
        return [seconds, "1"]


class DurationField(forms.MultiValueField):
    """Seconds, typed as "3" + "days"."""

    widget = DurationWidget

    def __init__(self, *, min_seconds: int = 0, **kwargs):
        self.min_seconds = min_seconds
        fields = (
            forms.IntegerField(min_value=0, max_value=MAX_WAIT_SECONDS, required=False),
            forms.ChoiceField(choices=UNITS, required=False),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list or data_list[0] in (None, ""):
            return None
        seconds = int(data_list[0]) * int(data_list[1] or 1)
        if seconds > MAX_WAIT_SECONDS:
            raise forms.ValidationError(_("At most 366 days."), code="max")
        if seconds < self.min_seconds:
            raise forms.ValidationError(_("Must be longer than zero."), code="min")
        return seconds


class JsonField(forms.CharField):
    """A JSON object typed in a textarea; empty means {} (or None with `empty=None`)."""

    def __init__(self, *, empty: Any = None, **kwargs):
        self.empty = {} if empty is None else empty
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "class": "mono"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, indent=1) if value else ""
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return self.empty
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("Not valid JSON (line %(line)s, column %(col)s)."),
                params={"line": error.lineno, "col": error.colno},
                code="json",
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("Must be a JSON object: {…}."), code="json")
        return data


def loose_value(text: str) -> Any:
    """A typed value: JSON when it parses (100, true, ["a","b"]), else the text itself."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def channel_choices(*, best: bool = False) -> list[tuple[str, str]]:
    choices = [(c, str(CHANNEL_LABELS.get(c, c))) for c in CHANNELS]
    if best:
        choices.insert(0, ("best", _("Best reachable channel")))
    return choices


# pydantic's own texts of the definition's checks → the same rule in the viewer's language.
KNOWN_MESSAGES = {
    "seconds must be positive for a duration wait": _("Set how long to wait."),
    "time is required for a wait until a time of day": _("Set the time of day."),
    "a wait for outcomes needs at least one outcome": _("Add at least one outcome."),
    "outcome names must be unique within the step": _("Each outcome needs its own name."),
    "event is required for an event outcome": _("Name the event."),
    "segment_id is required for a segment outcome": _("Choose the segment."),
    "rule is required for a rule condition": _("Write the rule."),
    "property is required for an entry condition": _("Name the property."),
    "step is required for a result condition": _("Choose the step."),
    "the arms and the holdout must add up to 100 percent": _(
        "The arms and the holdout must add up to 100 %."
    ),
    "cooldown_seconds must be positive for the cooldown policy": _(
        "Set the cooldown for this policy."
    ),
    "event is required for an event goal": _("Name the goal's event."),
}
# Where a whole-object check's message belongs when pydantic gives only the object's place.
MESSAGE_FIELDS = {
    "seconds must be positive for a duration wait": "seconds",
    "time is required for a wait until a time of day": "time",
    "a wait for outcomes needs at least one outcome": "o1_name",
    "event is required for an event outcome": "event",
    "segment_id is required for a segment outcome": "segment_id",
    "rule is required for a rule condition": "rule",
    "property is required for an entry condition": "property",
    "step is required for a result condition": "step",
    "the arms and the holdout must add up to 100 percent": "holdout_percent",
    "cooldown_seconds must be positive for the cooldown policy": "cooldown_seconds",
    "event is required for an event goal": "event",
}


def pydantic_errors(error: ValidationError, field_for: Any) -> list[tuple[str | None, str]]:
    """[(form field or None, message)] from a ValidationError; `field_for(loc, hint)` names the
    form field for a location (`hint`: the field a whole-object message is about)."""
    found = []
    for item in error.errors():
        raw = str(item.get("msg", ""))
        text = raw.removeprefix("Value error, ")
        hint = MESSAGE_FIELDS.get(text)
        if text not in KNOWN_MESSAGES and " is required for " in text:
            hint = text.split(" is required for ")[0]  # an action's missing field
            message = _("Required for this action.")
        else:
            message = KNOWN_MESSAGES.get(text, raw)
        found.append((field_for(tuple(item.get("loc", ())), hint), str(message)))
    return found
