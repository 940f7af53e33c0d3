"""Actions (promo code, points, attribute, segment, webhook, conversation) and the exit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.definition import ACTIONS
from campaigns.journeys.form_fields import (
    JsonField,
    channel_choices,
    loose_value,
    value_text,
)
from campaigns.journeys.step_forms.base import (
    StepForm,
    _pk,
    _segment_choice,
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
            step["points"] = data.get("points") or 0  # they expire as the loyalty settings say
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
            "key": step.key,
            "value": value_text(step.value),
            "segment": step.segment_id,
            "payload": step.payload,
            "channel": step.channel,
            "note": step.note,
            "next": step.next or "",
        }


class ExitForm(StepForm):
    type = "exit"

    def build(self, data: dict) -> dict:
        return {}
