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

from campaigns.journeys.definition import Definition, Step
from campaigns.journeys.form_fields import (
    pydantic_errors,
)
from campaigns.message_templates.models import Template
from customers.models import Segment

STEP_TYPES = (
    ("send", _("Send a message")),
    ("survey", _("Send a survey")),
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


def survey_field_choices() -> list[tuple[int, str]]:
    """The surveys a step may send (analytics registers them; archived ones are left out)."""
    from campaigns.journeys.extensions import survey_choices

    return [(c.id, f"{c.name} · {c.kind.upper()}") for c in survey_choices()]


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
