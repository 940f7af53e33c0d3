"""The journey's own settings: name, description, trigger, entry policy, goal, exits, limits.

One form for "New journey" and "Settings"; `definition()` gives the definition without its steps
(the caller keeps the draft's steps). Pydantic's errors land on the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from campaigns.journeys.definition import Definition
from campaigns.journeys.form_fields import DurationField, JsonField, pydantic_errors
from customers.models import Segment

TRIGGER_KINDS = (
    ("event", _("An event")),
    ("segment_entered", _("Entering a segment")),
    ("segment_left", _("Leaving a segment")),
    ("date", _("A date of the customer")),
    ("schedule", _("A schedule")),
    ("api", _("An API call")),
)
TRIGGER_LABELS = dict(TRIGGER_KINDS)
ENTRY_POLICIES = (
    ("one_active", _("One active run at a time")),
    ("once", _("Once ever")),
    ("every_time", _("Every time")),
    ("cooldown", _("Again after a cooldown")),
)
HHMM = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# A pydantic location in the definition → the form field.
LOC_FIELDS = {
    ("trigger", "event"): "event",
    ("trigger", "filters"): "event_filters",
    ("trigger", "segment_id"): "segment",
    ("trigger", "field"): "date_field",
    ("trigger", "offset_days"): "offset_days",
    ("trigger", "at"): "at",
    ("trigger", "every"): "every",
    ("entry", "cooldown_seconds"): "cooldown_seconds",
    ("entry", "key"): "entry_key",
    ("entry",): "cooldown_seconds",
    ("goal", "event"): "goal_event",
    ("goal",): "goal_event",
    ("goal", "window_seconds"): "goal_window",
}


class JourneyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Trigger
    trigger = forms.ChoiceField(label=_("Starts on"), choices=TRIGGER_KINDS, initial="event")
    event = forms.CharField(
        label=_("Event name"), max_length=100, required=False, help_text=_("e.g. cart_abandoned")
    )
    event_filters = JsonField(
        label=_("Only when the event carries (JSON)"),
        help_text=_('Property → value, or a list for “one of”: {"source": ["web", "app"]}.'),
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label=_("Choose…"),
    )
    include_current = forms.BooleanField(
        label=_("On publishing, also enrol everyone in the segment now"), required=False
    )
    date_field = forms.CharField(
        label=_("Date"),
        max_length=100,
        required=False,
        initial="birth_date",
        help_text=_("birth_date, attribute:<key>, points_expiring or promo_expiring."),
    )
    offset_days = forms.IntegerField(
        label=_("Days from the date"),
        min_value=-366,
        max_value=366,
        initial=0,
        required=False,
        help_text=_("-3: three days before."),
    )
    at = forms.TimeField(label=_("At (UTC)"), required=False, initial="10:00", widget=HHMM)
    every = forms.ChoiceField(
        label=_("Every"),
        required=False,
        choices=(("day", _("day")), ("week", _("week")), ("month", _("month"))),
    )
    weekday = forms.TypedChoiceField(
        label=_("Weekday (weekly)"),
        coerce=int,
        required=False,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    day = forms.IntegerField(
        label=_("Day of the month (monthly)"), min_value=1, max_value=28, required=False
    )
    # Entry
    entry_policy = forms.ChoiceField(label=_("Who may enter"), choices=ENTRY_POLICIES)
    cooldown_seconds = DurationField(label=_("Cooldown"), required=False)
    entry_key = forms.CharField(
        label=_("Entry key"),
        max_length=100,
        required=False,
        help_text=_("A trigger property such as cart_id: runs with different keys are separate."),
    )
    # Goal
    goal = forms.ChoiceField(
        label=_("Goal"),
        choices=(("", _("No goal")), ("order", _("An order")), ("event", _("An event"))),
        required=False,
    )
    goal_event = forms.CharField(label=_("Goal event"), max_length=100, required=False)
    goal_window = DurationField(
        label=_("Counts within"), required=False, min_seconds=1, initial=7 * 86400
    )
    # Exits and limits
    exit_opted_out = forms.BooleanField(
        label=_("Leave when the customer withdraws consent"), required=False, initial=True
    )
    exit_segment = forms.ModelChoiceField(
        label=_("Leave when the customer leaves the segment"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        empty_label=_("—"),
    )
    per_customer_per_day = forms.IntegerField(
        label=_("Messages per customer a day"),
        min_value=0,
        max_value=1000,
        initial=0,
        help_text=_("0: no limit beyond the global caps."),
    )
    sends_per_hour = forms.IntegerField(
        label=_("Messages an hour, in all"),
        min_value=0,
        max_value=10_000_000,
        initial=0,
        help_text=_("0: no limit."),
    )

    SECTIONS = (
        (_("Journey"), ("name", "description")),
        (
            _("Trigger"),
            (
                "trigger",
                "event",
                "event_filters",
                "segment",
                "include_current",
                "date_field",
                "offset_days",
                "at",
                "every",
                "weekday",
                "day",
            ),
        ),
        (_("Entry"), ("entry_policy", "cooldown_seconds", "entry_key")),
        (_("Goal"), ("goal", "goal_event", "goal_window")),
        (
            _("Exits and limits"),
            ("exit_opted_out", "exit_segment", "per_customer_per_day", "sends_per_hour"),
        ),
    )

    def sections(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (str(title), f"sec-{i}", [self[n] for n in names])
            for i, (title, names) in enumerate(self.SECTIONS)
        ]

    def _trigger(self, data: dict) -> dict[str, Any]:
        kind = data["trigger"]
        trigger: dict[str, Any] = {"kind": kind}
        at = data["at"].strftime("%H:%M") if data.get("at") else "10:00"
        segment_id = data["segment"].pk if data.get("segment") else None
        if kind == "event":
            trigger.update(event=data.get("event") or "", filters=data.get("event_filters") or {})
        elif kind in ("segment_entered", "segment_left"):
            trigger["segment_id"] = segment_id
            if kind == "segment_entered":
                trigger["include_current"] = bool(data.get("include_current"))
        elif kind == "date":
            trigger.update(
                field=data.get("date_field") or "", offset_days=data.get("offset_days") or 0, at=at
            )
        elif kind == "schedule":
            trigger.update(
                segment_id=segment_id,
                every=data.get("every") or "day",
                at=at,
                weekday=data.get("weekday") or 0,
                day=data.get("day") or 1,
            )
        return trigger

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data["trigger"]
        if kind == "event" and not data.get("event"):
            self.add_error("event", _("Name the event that starts the journey."))
        if kind in ("segment_entered", "segment_left", "schedule") and not data.get("segment"):
            self.add_error("segment", _("Choose the segment."))
        if self.errors:
            return data
        definition: dict[str, Any] = {
            "trigger": self._trigger(data),
            "entry": {
                "policy": data["entry_policy"],
                "cooldown_seconds": data.get("cooldown_seconds") or 0,
                "key": data.get("entry_key") or "",
            },
            "exits": {
                "opted_out": bool(data.get("exit_opted_out")),
                "left_segment_id": data["exit_segment"].pk if data.get("exit_segment") else None,
            },
            "limits": {
                "per_customer_per_day": data["per_customer_per_day"],
                "sends_per_hour": data["sends_per_hour"],
            },
        }
        if data.get("goal"):
            definition["goal"] = {
                "kind": data["goal"],
                "event": data.get("goal_event") or "",
                "window_seconds": data.get("goal_window") or 7 * 86400,
            }
        try:
            Definition.model_validate(definition)
        except ValidationError as error:
            for field, message in pydantic_errors(error, self._field_for):
                self.add_error(field if field in self.fields else None, message)
        self.settings = definition
        return data

    def _field_for(self, loc: tuple, hint: str | None) -> str | None:
        if loc and loc[0] == "trigger" and len(loc) > 2:
            loc = (loc[0], *loc[2:])  # pydantic puts the trigger kind in the location
        return LOC_FIELDS.get(tuple(loc)) or (loc[-1] if loc else None)

    def definition(self, steps_from: dict | None = None) -> dict:
        """The definition from the form, with `start` and `steps` of `steps_from` (the draft)."""
        draft = steps_from or {}
        return {**self.settings, "start": draft.get("start"), "steps": draft.get("steps", [])}


def journey_initial(journey) -> dict:
    """The form's initial values from a journey's draft."""
    d = Definition.model_validate(journey.draft)
    t = d.trigger
    data: dict[str, Any] = {
        "name": journey.name,
        "description": journey.description,
        "trigger": t.kind,
        "entry_policy": d.entry.policy,
        "cooldown_seconds": d.entry.cooldown_seconds or None,
        "entry_key": d.entry.key,
        "goal": d.goal.kind if d.goal else "",
        "goal_event": d.goal.event if d.goal else "",
        "goal_window": d.goal.window_seconds if d.goal else 7 * 86400,
        "exit_opted_out": d.exits.opted_out,
        "exit_segment": d.exits.left_segment_id,
        "per_customer_per_day": d.limits.per_customer_per_day,
        "sends_per_hour": d.limits.sends_per_hour,
    }
    for name in ("event", "filters", "segment_id", "include_current", "field", "offset_days"):
        if hasattr(t, name):
            key = {
                "filters": "event_filters",
                "segment_id": "segment",
                "field": "date_field",
            }.get(name, name)
            data[key] = getattr(t, name)
    for name in ("at", "every", "weekday", "day"):
        if hasattr(t, name):
            data[name] = getattr(t, name)
    return data
