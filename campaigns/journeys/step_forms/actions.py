"""Actions (promo code, points, attribute, segment, webhook, conversation) and the exit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.definition import ACTIONS
from campaigns.journeys.form_fields import (
    DurationField,
    JsonField,
    channel_choices,
    loose_value,
    value_text,
)
from campaigns.journeys.step_forms.base import (
    CASCADE_ROWS,
    MESSAGE_STATUSES,
    Rows,
    StepForm,
    _pk,
    _segment_choice,
    _template_choice,
)
from campaigns.promo.models import PromoPool

ACTION_LABELS = {
    "promo_issue": _("Issue a promo code"),
    "points_award": _("Award points"),
    "points_spend": _("Take points"),
    "attribute_set": _("Set an attribute"),
    "segment_add": _("Add to a static segment"),
    "segment_remove": _("Remove from a static segment"),
    "webhook": _("Send a CRM webhook"),
    "conversation_open": _("Open a support conversation"),
}


class ActionForm(StepForm):
    type = "action"
    targets = ("next",)
    action = forms.ChoiceField(label=_("Action"), choices=[(a, ACTION_LABELS[a]) for a in ACTIONS])
    pool = forms.ModelChoiceField(
        label=_("Promo code pool"),
        queryset=PromoPool.objects.filter(archived_at__isnull=True).order_by("name"),
        required=False,
        empty_label=_("Choose…"),
    )
    points = forms.IntegerField(
        label=_("Points"), min_value=0, max_value=10_000_000, required=False
    )
    expires_days = forms.IntegerField(
        label=_("Points expire after, days"), min_value=1, max_value=3650, required=False
    )
    key = forms.CharField(label=_("Attribute"), max_length=100, required=False)
    value = forms.CharField(label=_("Value"), max_length=500, required=False)
    segment = _segment_choice(static=True, label=_("Static segment"), required=False)
    payload = JsonField(label=_("Webhook payload (JSON)"))
    channel = forms.ChoiceField(label=_("Conversation channel"), required=False)
    note = forms.CharField(
        label=_("Note for the agents"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next = forms.ChoiceField(label=_("Then goes to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channel_choices()

    def field_for(self, loc: tuple, hint: str | None) -> str | None:
        field = super().field_for(loc, hint)
        return {"pool_id": "pool", "segment_id": "segment"}.get(field or "", field)

    def build(self, data: dict) -> dict:
        action = data["action"]
        step: dict[str, Any] = {"action": action, "next": self._next(data, "next")}
        if action == "promo_issue":
            step["pool_id"] = _pk(data.get("pool"))
        elif action in ("points_award", "points_spend"):
            step["points"] = data.get("points") or 0
            if action == "points_award" and data.get("expires_days"):
                step["expires_days"] = data["expires_days"]
        elif action == "attribute_set":
            step.update(key=data.get("key") or "", value=loose_value(data.get("value") or ""))
        elif action in ("segment_add", "segment_remove"):
            step["segment_id"] = _pk(data.get("segment"))
        elif action == "webhook":
            step["payload"] = data.get("payload") or {}
        elif action == "conversation_open":
            step.update(channel=data.get("channel") or "email", note=data.get("note") or "")
        return step

    @classmethod
    def initial_for(cls, step) -> dict:
        return {
            **super().initial_for(step),
            "action": step.action,
            "pool": step.pool_id,
            "points": step.points or None,
            "expires_days": step.expires_days,
            "key": step.key,
            "value": value_text(step.value),
            "segment": step.segment_id,
            "payload": step.payload,
            "channel": step.channel,
            "note": step.note,
            "next": step.next or "",
        }


CASCADE_COLS = ("channel", "template", "wait", "outcome")


class CascadeForm(StepForm):
    type = "cascade"
    targets = ("next_on_outcome", "next")
    row_lists = (("ch", "channels", CASCADE_COLS),)
    rounds = forms.IntegerField(label=_("Rounds"), min_value=1, max_value=20, initial=1)
    round_pause_seconds = DurationField(label=_("Pause between rounds"), required=False)
    stop_on_promo = forms.BooleanField(
        label=_("Stop when the attached promo code is redeemed or expires"),
        required=False,
        initial=True,
    )
    deadline_seconds = DurationField(label=_("Deadline"), required=False, min_seconds=1)
    next_on_outcome = forms.ChoiceField(label=_("On the outcome: goes to"))
    next = forms.ChoiceField(label=_("Otherwise (rounds over, deadline): goes to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, CASCADE_ROWS + 1):
            self.fields[f"ch{i}_channel"] = forms.ChoiceField(
                label=_("Channel"), required=False, choices=[("", "—"), *channel_choices()]
            )
            self.fields[f"ch{i}_template"] = _template_choice(label=_("Template"), required=False)
            self.fields[f"ch{i}_wait"] = DurationField(
                label=_("Wait for the outcome"), required=False, min_seconds=1
            )
            self.fields[f"ch{i}_outcome"] = forms.ChoiceField(
                label=_("Outcome"),
                required=False,
                choices=(*MESSAGE_STATUSES, ("converted", _("converted"))),
                initial="opened",
            )

    def _collect(self, data: dict, prefix: str, cols: tuple[str, ...]) -> list[dict]:
        # A row counts once it has a channel: its outcome select is never empty.
        return [r for r in super()._collect(data, prefix, cols) if r.get("channel")]

    def row_tables(self) -> list[Rows]:
        return [
            self._table(
                "ch",
                CASCADE_COLS,
                _("Channels, in order"),
                _(
                    "Each channel waits for its outcome before the next one is tried; a channel "
                    "the customer can't be reached on is skipped."
                ),
            )
        ]

    def build(self, data: dict) -> dict:
        channels = [
            {
                "channel": row["channel"],
                "template_id": _pk(row["template"]),
                "wait_seconds": row["wait"] or 0,
                "outcome": row["outcome"] or "opened",
            }
            for row in self._collect(data, "ch", CASCADE_COLS)
        ]
        if not channels:
            self.add_error("ch1_channel", _("Add at least one channel."))
        step = {
            "channels": channels,
            "rounds": data["rounds"],
            "round_pause_seconds": data.get("round_pause_seconds") or 0,
            "stop_on_promo": bool(data.get("stop_on_promo")),
            "next_on_outcome": self._next(data, "next_on_outcome"),
            "next": self._next(data, "next"),
        }
        if data.get("deadline_seconds"):
            step["deadline_seconds"] = data["deadline_seconds"]
        return step

    def field_for(self, loc: tuple, hint: str | None) -> str | None:
        field = super().field_for(loc, hint) or ""
        if field.startswith("ch") and field.endswith("_template_id"):
            return field.removesuffix("_id")
        if field.startswith("ch") and field.endswith("_wait_seconds"):
            return field.removesuffix("_seconds")
        return field or None

    @classmethod
    def initial_for(cls, step) -> dict:
        data = {
            **super().initial_for(step),
            "rounds": step.rounds,
            "round_pause_seconds": step.round_pause_seconds or None,
            "stop_on_promo": step.stop_on_promo,
            "deadline_seconds": step.deadline_seconds,
            "next_on_outcome": step.next_on_outcome or "",
            "next": step.next or "",
        }
        for i, c in enumerate(step.channels[:CASCADE_ROWS], start=1):
            data.update(
                {
                    f"ch{i}_channel": c.channel,
                    f"ch{i}_template": c.template_id,
                    f"ch{i}_wait": c.wait_seconds,
                    f"ch{i}_outcome": c.outcome,
                }
            )
        return data


class ExitForm(StepForm):
    type = "exit"

    def build(self, data: dict) -> dict:
        return {}
