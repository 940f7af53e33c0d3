"""One form per step type, for the builder's side panel.

A form turns the POST into the step's dict (`step()`), checked by the definition's own schema
so its errors land on the form's fields; the services then check it in the journey. Repeated
parts (outcomes, branch cases, split arms, cascade channels) are numbered rows: an empty row is
ignored, so no JavaScript is needed to add one. When a step is edited, each way out has a
"goes to" select; a new step's ways out are connected by `journey_step_add`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import TypeAdapter, ValidationError

from campaigns.journeys.definition import ACTIONS, Definition, Step
from campaigns.journeys.form_fields import (
    DurationField,
    JsonField,
    channel_choices,
    loose_value,
    pydantic_errors,
    value_text,
)
from campaigns.message_templates.models import Template
from campaigns.promo.models import PromoPool
from customers.models import Segment

STEP_TYPES = (
    ("send", _("Send a message")),
    ("wait", _("Wait")),
    ("branch", _("Branch on a condition")),
    ("split", _("Split (random, A/B)")),
    ("action", _("Action")),
    ("cascade", _("Cascade of channels")),
    ("exit", _("Exit")),
)
STEP_TYPE_LABELS = dict(STEP_TYPES)
OUTCOME_ROWS = 5
CASE_ROWS = 5
ARM_ROWS = 5
CASCADE_ROWS = 6
MESSAGE_STATUSES = (
    ("delivered", _("delivered")),
    ("opened", _("opened")),
    ("clicked", _("clicked")),
    ("replied", _("replied")),
)
_step_adapter = TypeAdapter(Step)
# Row columns whose select always holds a value: they alone do not make a row filled.
SELECTS = ("next", "kind", "op", "status", "outcome")


@dataclass(frozen=True)
class Rows:
    """A table of numbered rows in a form: its title, column labels, each row's fields as
    (column, bound field), and how many rows to show open (the filled ones and one empty)."""

    title: str
    columns: list[str]
    rows: list[list[tuple[str, forms.BoundField]]]
    help: str = ""
    shown: int = 1

    @property
    def open_rows(self):
        return self.rows[: self.shown]

    @property
    def more_rows(self):
        return self.rows[self.shown :]


def _template_choice(**kwargs) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Template.objects.filter(archived_at__isnull=True).order_by("name"),
        empty_label=_("Choose…"),
        **kwargs,
    )


def _segment_choice(static: bool = False, **kwargs) -> forms.ModelChoiceField:
    segments = Segment.objects.order_by("name")
    if static:
        segments = segments.filter(kind=Segment.Kind.STATIC)
    return forms.ModelChoiceField(queryset=segments, empty_label=_("Choose…"), **kwargs)


def _filled(value) -> bool:
    if isinstance(value, list | dict):
        return bool(value)
    return value not in (None, "", False)


def _pk(value) -> int | None:
    return value.pk if value is not None else None


class StepForm(forms.Form):
    type = ""
    # Rows: (key prefix, list name in the step, fields of a row).
    row_lists: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    targets: tuple[str, ...] = ()  # the fields that name a step to go to

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    max_visits = forms.IntegerField(
        label=_("At most this many visits per run"),
        min_value=1,
        max_value=1000,
        required=False,
        help_text=_("On a loop: a run that comes here more often leaves the journey."),
    )

    def __init__(self, *args, definition: Definition, step_id: str | None = None, **kwargs):
        self.definition = definition
        self.step_id = step_id
        self.editing = step_id is not None
        super().__init__(*args, **kwargs)
        steps = [("", _("— end of the journey"))] + [
            (s.id, f"{s.name} · {s.id}" if s.name else s.id) for s in definition.steps
        ]
        self.step_choices = steps
        for name, field in self.fields.items():
            if name in self.target_fields():
                field.choices = steps
                field.required = False
        if not self.editing:
            for name in self.target_fields():
                self.fields.pop(name, None)

    # --- structure, for the template ------------------------------------------------------
    def target_fields(self) -> list[str]:
        names = list(self.targets)
        for prefix, _list, cols in self.row_lists:
            if "next" in cols:
                names += [f"{prefix}{i}_next" for i in range(1, self._rows(prefix) + 1)]
        return names

    def _rows(self, prefix: str) -> int:
        return {"o": OUTCOME_ROWS, "c": CASE_ROWS, "a": ARM_ROWS, "ch": CASCADE_ROWS}[prefix]

    def main_fields(self) -> list[forms.BoundField]:
        in_rows = {
            f"{prefix}{i}_{col}"
            for prefix, _list, cols in self.row_lists
            for i in range(1, self._rows(prefix) + 1)
            for col in cols
        }
        tail = set(self.targets) | {"name", "max_visits"}
        return [self[n] for n in self.fields if n not in in_rows and n not in tail]

    def target_bound(self) -> list[forms.BoundField]:
        return [self[n] for n in self.targets if n in self.fields]

    def row_tables(self) -> list[Rows]:
        return []

    def _table(self, prefix: str, cols: tuple[str, ...], title, help_text="") -> Rows:
        cols = tuple(c for c in cols if f"{prefix}1_{c}" in self.fields)
        rows = [
            [(c, self[f"{prefix}{i}_{c}"]) for c in cols] for i in range(1, self._rows(prefix) + 1)
        ]
        labels = [str(self.fields[f"{prefix}1_{c}"].label) for c in cols]
        filled = 0
        for i, row in enumerate(rows, start=1):
            key = row[0][1]  # the name, or the cascade's channel
            if key.value() or any(bf.errors for _c, bf in row):
                filled = i
        shown = min(len(rows), filled + 1)
        return Rows(str(title), labels, rows, str(help_text), shown)

    # --- data -----------------------------------------------------------------------------
    def build(self, data: dict) -> dict:
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        step = {"id": self.step_id or "new-step", "type": self.type}
        if data.get("name"):
            step["name"] = data["name"]
        if data.get("max_visits"):
            step["max_visits"] = data["max_visits"]
        step.update(self.build(data))
        try:
            _step_adapter.validate_python(step)
        except ValidationError as error:
            for field, message in pydantic_errors(error, self.field_for):
                self.add_error(field if field in self.fields else None, message)
        self.step_dict = step
        return data

    def field_for(self, loc: tuple, hint: str | None) -> str | None:
        """The form field for a pydantic location such as ("wait", "outcomes", 0, "event")."""
        parts = [p for p in loc[1:] if p != "condition"]
        prefixes = {name: prefix for prefix, name, _cols in self.row_lists}
        if len(parts) >= 2 and parts[0] in prefixes and isinstance(parts[1], int):
            column = parts[2] if len(parts) > 2 else hint
            return f"{prefixes[parts[0]]}{parts[1] + 1}_{column}"
        if parts:
            return str(parts[0])
        return hint

    def step(self) -> dict:
        """The step as the services take it; for a new step, without its id."""
        step = dict(self.step_dict)
        if not self.editing:
            step.pop("id")
        return step

    @classmethod
    def initial_for(cls, step: Any) -> dict:
        """Initial values from a step of the definition (a pydantic model)."""
        data = {"name": step.name, "max_visits": step.max_visits}
        return data

    def _collect(self, data: dict, prefix: str, cols: tuple[str, ...]) -> list[dict]:
        """The filled rows (any value but the "goes to"); a filled row needs its name."""
        rows = []
        for i in range(1, self._rows(prefix) + 1):
            row = {c: data.get(f"{prefix}{i}_{c}") for c in cols}
            if any(_filled(v) for k, v in row.items() if k not in SELECTS):
                if "name" in row and not row["name"] and f"{prefix}{i}_name" not in self.errors:
                    self.add_error(f"{prefix}{i}_name", _("Name it: small letters, digits and _."))
                rows.append(row)
        return rows

    def _next(self, data: dict, name: str) -> str | None:
        return data.get(name) or None if self.editing else None


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


OUTCOME_COLS = ("name", "kind", "status", "step", "event", "match", "segment_id", "next")


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
                    '{"promo_code": "context.promo_code"}.'
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


STEP_FORMS: dict[str, type[StepForm]] = {
    f.type: f
    for f in (SendForm, WaitForm, BranchForm, SplitForm, ActionForm, CascadeForm, ExitForm)
}


def way_outs(step) -> list[str]:
    """Every way out a step has, connected or not: where "Add a step after…" may insert."""
    if step.type == "send":
        return ["next", "unreachable"]
    if step.type == "wait":
        if step.mode == "outcomes":
            return [o.name for o in step.outcomes] + ["timeout"]
        return ["next"]
    if step.type == "branch":
        return [c.name for c in step.cases] + ["default"]
    if step.type == "split":
        return [a.name for a in step.arms]
    if step.type == "cascade":
        return ["outcome", "next"]
    if step.type == "action":
        return ["next"]
    return []
