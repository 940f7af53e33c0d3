"""Steps that send: one message, or a cascade of channels."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.form_fields import (
    DurationField,
    channel_choices,
)
from campaigns.journeys.step_forms.base import (
    CASCADE_ROWS,
    MESSAGE_STATUSES,
    Rows,
    StepForm,
    _pk,
    _template_choice,
    survey_field_choices,
)


class SendForm(StepForm):
    type = "send"
    targets = ("next", "unreachable_step")
    template = _template_choice(label=_("Template"))
    channel = forms.ChoiceField(label=_("Channel"), initial="best")
    on_unreachable = forms.ChoiceField(
        label=_("When the customer can't be reached"),
        choices=(
            ("continue", _("Go on to the next step")),
            ("exit", _("Leave the journey")),
            ("step", _("Go to a step (below)")),
        ),
        help_text=_("No consent, no address on the channel, or a frequency cap."),
    )
    next = forms.ChoiceField(label=_("Then goes to"))
    unreachable_step = forms.ChoiceField(label=_("Unreachable: goes to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channel_choices(best=True)

    def clean(self):
        data = super().clean()
        return data

    def build(self, data: dict) -> dict:
        unreachable = data["on_unreachable"]
        if unreachable == "step":
            unreachable = data.get("unreachable_step") or ""
            if not unreachable:
                self.add_error(
                    "unreachable_step" if self.editing else "on_unreachable",
                    _("Choose the step to go to."),
                )
                unreachable = "continue"
        return {
            "template_id": _pk(data["template"]),
            "channel": data["channel"],
            "on_unreachable": unreachable,
            "next": self._next(data, "next"),
        }

    @classmethod
    def initial_for(cls, step) -> dict:
        custom = step.on_unreachable not in ("continue", "exit")
        return {
            **super().initial_for(step),
            "template": step.template_id,
            "channel": step.channel,
            "on_unreachable": "step" if custom else step.on_unreachable,
            "unreachable_step": step.on_unreachable if custom else "",
            "next": step.next or "",
        }


class SurveyForm(SendForm):
    """Send an NPS, CSAT or CES survey; its ways out are a send's."""

    type = "survey"
    survey = forms.TypedChoiceField(
        label=_("Survey"),
        coerce=int,
        empty_value=None,
        help_text=_(
            "To wait for the answer, add a wait after it with the outcome “Survey answered”."
        ),
    )
    field_order = ("survey", "channel", "on_unreachable")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["template"]
        self.fields["survey"].choices = [("", _("Choose…")), *survey_field_choices()]
        self.order_fields(self.field_order)

    def build(self, data: dict) -> dict:
        step = super().build({**data, "template": None})
        del step["template_id"]
        step["survey_id"] = data["survey"]
        return step

    def field_for(self, loc: tuple, hint: str | None) -> str | None:
        field = super().field_for(loc, hint)
        return "survey" if field == "survey_id" else field

    @classmethod
    def initial_for(cls, step) -> dict:
        custom = step.on_unreachable not in ("continue", "exit")
        return {
            **StepForm.initial_for(step),
            "survey": step.survey_id,
            "channel": step.channel,
            "on_unreachable": "step" if custom else step.on_unreachable,
            "unreachable_step": step.on_unreachable if custom else "",
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
