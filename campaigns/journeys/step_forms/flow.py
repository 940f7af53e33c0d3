"""Steps that steer the run: waits (for a time, a time of day, or outcomes), branches and splits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.form_fields import (
    DurationField,
    JsonField,
    loose_value,
    value_text,
)
from campaigns.journeys.step_forms.base import (
    ARM_ROWS,
    CASE_ROWS,
    MESSAGE_STATUSES,
    OUTCOME_ROWS,
    Rows,
    StepForm,
    _pk,
    _segment_choice,
    survey_field_choices,
)

OUTCOME_COLS = (
    "name",
    "kind",
    "status",
    "step",
    "event",
    "match",
    "segment_id",
    "survey_id",
    "next",
)


class WaitForm(StepForm):
    type = "wait"
    targets = ("next", "timeout_next")
    row_lists = (("o", "outcomes", OUTCOME_COLS),)
    mode = forms.ChoiceField(
        label=_("Wait"),
        choices=(
            ("duration", _("For a time")),
            ("until_time", _("Until a time of day")),
            ("outcomes", _("Until something happens")),
        ),
    )
    seconds = DurationField(label=_("How long"), required=False, min_seconds=1)
    time = forms.TimeField(
        label=_("Time of day (customer's)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    weekdays = forms.MultipleChoiceField(
        label=_("On these days"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(
            ("0", _("Mon")),
            ("1", _("Tue")),
            ("2", _("Wed")),
            ("3", _("Thu")),
            ("4", _("Fri")),
            ("5", _("Sat")),
            ("6", _("Sun")),
        ),
        help_text=_("None ticked: any day."),
    )
    timeout_seconds = DurationField(
        label=_("Give up after"),
        required=False,
        min_seconds=1,
        help_text=_("When none of the outcomes happens in this time, the run takes “timeout”."),
    )
    next = forms.ChoiceField(label=_("Then goes to"))
    timeout_next = forms.ChoiceField(label=_("Timeout: goes to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, OUTCOME_ROWS + 1):
            self.fields[f"o{i}_name"] = forms.RegexField(
                label=_("Name"), regex=r"^[a-z0-9_]{1,40}$", required=False, max_length=40
            )
            self.fields[f"o{i}_name"].widget.attrs["placeholder"] = "opened" if i == 1 else ""
            self.fields[f"o{i}_kind"] = forms.ChoiceField(
                label=_("Kind"),
                required=False,
                choices=(
                    ("message", _("Message")),
                    ("event", _("Event")),
                    ("order", _("Order")),
                    ("segment", _("In a segment")),
                    ("survey", _("Survey answered")),
                ),
            )
            self.fields[f"o{i}_status"] = forms.ChoiceField(
                label=_("Message status"), required=False, choices=MESSAGE_STATUSES
            )
            self.fields[f"o{i}_step"] = forms.ChoiceField(
                label=_("Of the message sent by"),
                required=False,
                choices=[("", _("the last send")), *self.step_choices[1:]],
            )
            self.fields[f"o{i}_event"] = forms.CharField(
                label=_("Event"), required=False, max_length=100
            )
            self.fields[f"o{i}_match"] = JsonField(
                label=_("Match key"),
                widget=forms.TextInput(
                    attrs={"class": "mono", "placeholder": '{"cart_id": "entry.cart_id"}'}
                ),
            )
            self.fields[f"o{i}_segment_id"] = _segment_choice(label=_("Segment"), required=False)
            self.fields[f"o{i}_survey_id"] = forms.TypedChoiceField(
                label=_("Survey"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *survey_field_choices()],
            )
            if self.editing:
                self.fields[f"o{i}_next"] = forms.ChoiceField(
                    label=_("Goes to"), required=False, choices=self.step_choices
                )

    def row_tables(self) -> list[Rows]:
        return [
            self._table(
                "o",
                OUTCOME_COLS,
                _("Outcomes"),
                _(
                    "Up to five named ways out. Name: small letters, digits, _. "
                    "Match key: event properties and the run's values, e.g. "
                    '{"promo_code": "context.promo_code"}. '
                    "Survey answered: the customer answered the survey (a match key such as "
                    '{"score": [0, 1, 2, 3, 4, 5, 6]} narrows it).'
                ),
            )
        ]

    def build(self, data: dict) -> dict:
        mode = data["mode"]
        step: dict[str, Any] = {"mode": mode}
        if mode == "duration":
            step["seconds"] = data.get("seconds") or 0
            step["next"] = self._next(data, "next")
        elif mode == "until_time":
            step["time"] = data["time"].strftime("%H:%M") if data.get("time") else ""
            step["weekdays"] = sorted(int(d) for d in data.get("weekdays") or [])
            step["next"] = self._next(data, "next")
        else:
            outcomes = []
            for row in self._collect(data, "o", OUTCOME_COLS):
                outcome = {"name": row["name"] or "", "kind": row["kind"] or "message"}
                if outcome["kind"] == "message":
                    outcome["status"] = row["status"] or "opened"
                    outcome["step"] = row["step"] or None
                if outcome["kind"] in ("event", "order"):
                    outcome["event"] = row["event"] or ""
                    outcome["match"] = row["match"] or {}
                if outcome["kind"] == "segment":
                    outcome["segment_id"] = _pk(row["segment_id"])
                if outcome["kind"] == "survey":
                    outcome["survey_id"] = row["survey_id"]
                if self.editing:
                    outcome["next"] = row.get("next") or None
                outcomes.append(outcome)
            step["outcomes"] = outcomes
            step["timeout_next"] = self._next(data, "timeout_next")
        if data.get("timeout_seconds"):
            step["timeout_seconds"] = data["timeout_seconds"]
        return step

    @classmethod
    def initial_for(cls, step) -> dict:
        data = {
            **super().initial_for(step),
            "mode": step.mode,
            "seconds": step.seconds or None,
            "time": step.time or None,
            "weekdays": [str(d) for d in step.weekdays],
            "timeout_seconds": step.timeout_seconds,
            "next": step.next or "",
            "timeout_next": step.timeout_next or "",
        }
        for i, o in enumerate(step.outcomes[:OUTCOME_ROWS], start=1):
            data.update(
                {
                    f"o{i}_name": o.name,
                    f"o{i}_kind": o.kind,
                    f"o{i}_status": o.status,
                    f"o{i}_step": o.step or "",
                    f"o{i}_event": o.event,
                    f"o{i}_match": o.match,
                    f"o{i}_segment_id": o.segment_id,
                    f"o{i}_survey_id": o.survey_id,
                    f"o{i}_next": o.next or "",
                }
            )
        return data


CASE_COLS = ("name", "kind", "rule", "property", "op", "value", "step", "next")


class BranchForm(StepForm):
    type = "branch"
    targets = ("default_next",)
    row_lists = (("c", "cases", CASE_COLS),)
    default_next = forms.ChoiceField(label=_("Otherwise (default) goes to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, CASE_ROWS + 1):
            self.fields[f"c{i}_name"] = forms.RegexField(
                label=_("Name"), regex=r"^[a-z0-9_]{1,40}$", required=False, max_length=40
            )
            self.fields[f"c{i}_kind"] = forms.ChoiceField(
                label=_("Condition"),
                required=False,
                choices=(
                    ("entry", _("Entry property")),
                    ("rule", _("Segment rule")),
                    ("result", _("Result of a step")),
                ),
            )
            self.fields[f"c{i}_rule"] = JsonField(label=_("Rule (JSON)"))
            self.fields[f"c{i}_property"] = forms.CharField(
                label=_("Property"), required=False, max_length=100
            )
            self.fields[f"c{i}_op"] = forms.ChoiceField(
                label=_("Compare"),
                required=False,
                choices=[(o, o) for o in ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")],
            )
            self.fields[f"c{i}_value"] = forms.CharField(
                label=_("Value"), required=False, max_length=500
            )
            self.fields[f"c{i}_step"] = forms.ChoiceField(
                label=_("Step"), required=False, choices=self.step_choices
            )
            if self.editing:
                self.fields[f"c{i}_next"] = forms.ChoiceField(
                    label=_("Goes to"), required=False, choices=self.step_choices
                )

    def row_tables(self) -> list[Rows]:
        return [
            self._table(
                "c",
                CASE_COLS,
                _("Cases, in order"),
                _(
                    "The first case that holds wins. Entry property: compare a property of "
                    'the trigger with a value (a number, text, or JSON such as ["a", "b"] '
                    "for “in”). Result of a step: the outcome, case or arm name that step ended "
                    "with, as the value."
                ),
            )
        ]

    def build(self, data: dict) -> dict:
        cases = []
        for row in self._collect(data, "c", CASE_COLS):
            kind = row["kind"] or "entry"
            condition: dict[str, Any] = {"kind": kind}
            if kind == "rule":
                condition["rule"] = row["rule"] or None
            elif kind == "entry":
                condition.update(
                    property=row["property"] or "",
                    op=row["op"] or "eq",
                    value=loose_value(row["value"]),
                )
            else:
                condition.update(step=row["step"] or None, value=loose_value(row["value"]))
            case = {"name": row["name"] or "", "condition": condition}
            if self.editing:
                case["next"] = row.get("next") or None
            cases.append(case)
        if not cases:
            self.add_error("c1_name", _("Add at least one case."))
        return {"cases": cases, "default_next": self._next(data, "default_next")}

    @classmethod
    def initial_for(cls, step) -> dict:
        data = {**super().initial_for(step), "default_next": step.default_next or ""}
        for i, c in enumerate(step.cases[:CASE_ROWS], start=1):
            cond = c.condition
            data.update(
                {
                    f"c{i}_name": c.name,
                    f"c{i}_kind": cond.kind,
                    f"c{i}_rule": cond.rule or {},
                    f"c{i}_property": cond.property,
                    f"c{i}_op": cond.op,
                    f"c{i}_value": value_text(cond.value),
                    f"c{i}_step": cond.step or "",
                    f"c{i}_next": c.next or "",
                }
            )
        return data


ARM_COLS = ("name", "percent", "next")


class SplitForm(StepForm):
    type = "split"
    row_lists = (("a", "arms", ARM_COLS),)
    mode = forms.ChoiceField(
        label=_("Kind"), choices=(("random", _("Random split")), ("ab", _("A/B test")))
    )
    holdout_percent = forms.FloatField(
        label=_("Holdout, %"),
        min_value=0,
        max_value=99,
        initial=0,
        help_text=_("A share that leaves at once, to measure the uplift."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, ARM_ROWS + 1):
            self.fields[f"a{i}_name"] = forms.RegexField(
                label=_("Name"), regex=r"^[a-z0-9_]{1,40}$", required=False, max_length=40
            )
            self.fields[f"a{i}_percent"] = forms.FloatField(
                label=_("Percent"), required=False, min_value=0.01, max_value=100
            )
            if self.editing:
                self.fields[f"a{i}_next"] = forms.ChoiceField(
                    label=_("Goes to"), required=False, choices=self.step_choices
                )

    def row_tables(self) -> list[Rows]:
        return [
            self._table(
                "a",
                ARM_COLS,
                _("Arms"),
                _("The arms and the holdout add up to 100 %. A customer always gets the same arm."),
            )
        ]

    def build(self, data: dict) -> dict:
        arms = []
        for row in self._collect(data, "a", ARM_COLS):
            arm = {"name": row["name"] or "", "percent": row["percent"] or 0}
            if self.editing:
                arm["next"] = row.get("next") or None
            arms.append(arm)
        if not arms:
            self.add_error("a1_name", _("Add at least one arm."))
        return {"mode": data["mode"], "arms": arms, "holdout_percent": data["holdout_percent"]}

    @classmethod
    def initial_for(cls, step) -> dict:
        data = {
            **super().initial_for(step),
            "mode": step.mode,
            "holdout_percent": step.holdout_percent,
        }
        for i, a in enumerate(step.arms[:ARM_ROWS], start=1):
            data.update({f"a{i}_name": a.name, f"a{i}_percent": a.percent, f"a{i}_next": a.next})
        return data
