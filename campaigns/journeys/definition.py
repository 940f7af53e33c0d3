"""What a journey is, as data: its trigger, entry rules, goal, exits, limits and graph of steps.

A draft and every published version store one `Definition` as JSON. Pydantic checks the shape
(each error names its field); `campaigns.journeys.services.checks` checks the graph as a whole
(unreachable steps, waits without a timeout, unbounded loops, missing template variants).

Steps have string ids, unique in the journey, and name their successors by id. A step that ends
a path has no successor (`next: null`): the run completes there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

STEP_ID = r"^[a-z0-9][a-z0-9_-]{0,39}$"
StepId = Annotated[str, Field(pattern=STEP_ID)]
Next = StepId | None
MAX_STEPS = 500
MAX_WAIT_SECONDS = 366 * 86400
CHANNELS = ("email", "sms", "whatsapp", "telegram", "viber", "push")
BEST = "best"  # the customer's preferred channel, else the first one they can be reached on


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Trigger, entry, goal, exits, limits ---------------------------------------------------------
class EventTrigger(_Strict):
    kind: Literal["event"]
    event: str = Field(min_length=1, max_length=100)
    # property -> value the event must carry (equality; a list means "one of")
    filters: dict[str, Any] = Field(default_factory=dict)


class SegmentTrigger(_Strict):
    kind: Literal["segment_entered", "segment_left"]
    segment_id: int
    # On publish, also enrol everyone who is a member now (segment_entered only).
    include_current: bool = False


class DateTrigger(_Strict):
    """A date of the customer relative to today: `birth_date`, an attribute holding a date,
    `points_expiring` (their next points expiry) or `promo_expiring` (an issued code's expiry)."""

    kind: Literal["date"]
    field: str = Field(
        min_length=1, max_length=100
    )  # birth_date | attribute:<key> | points_expiring | promo_expiring
    offset_days: int = Field(default=0, ge=-366, le=366)  # -3: three days before the date
    at: str = Field(
        default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$"
    )  # UTC time of the daily run


class ScheduleTrigger(_Strict):
    kind: Literal["schedule"]
    segment_id: int
    every: Literal["day", "week", "month"]
    at: str = Field(default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # UTC
    weekday: int = Field(default=0, ge=0, le=6)  # for "week": 0 = Monday
    day: int = Field(default=1, ge=1, le=28)  # for "month"


class ApiTrigger(_Strict):
    kind: Literal["api"]


Trigger = Annotated[
    EventTrigger | SegmentTrigger | DateTrigger | ScheduleTrigger | ApiTrigger,
    Field(discriminator="kind"),
]


class Entry(_Strict):
    """Who may start a run: once ever, every time, after a cooldown, or one active run at a time.
    `key` names a property of the trigger (e.g. `cart_id`): runs with different keys are
    separate (two carts, two runs), and the policy applies per key."""

    policy: Literal["once", "every_time", "cooldown", "one_active"] = "one_active"
    cooldown_seconds: int = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)
    key: str = Field(default="", max_length=100)

    @model_validator(mode="after")
    def _cooldown_needs_seconds(self) -> Entry:
        if self.policy == "cooldown" and self.cooldown_seconds <= 0:
            raise ValueError("cooldown_seconds must be positive for the cooldown policy")
        return self


class Goal(_Strict):
    """The run converts when the customer does this within `window_seconds` of entering:
    `order` (a completed order, with its revenue) or an event by name."""

    kind: Literal["order", "event"] = "order"
    event: str = Field(default="", max_length=100)
    window_seconds: int = Field(default=7 * 86400, ge=1, le=MAX_WAIT_SECONDS)

    @model_validator(mode="after")
    def _event_named(self) -> Goal:
        if self.kind == "event" and not self.event:
            raise ValueError("event is required for an event goal")
        return self


class Exits(_Strict):
    """Exit criteria, applied at once, even in the middle of a wait."""

    opted_out: bool = True  # the customer withdrew consent on any channel (unsubscribe included)
    left_segment_id: int | None = None  # the customer left this segment


class Limits(_Strict):
    """On top of the global caps and quiet hours. 0 means no limit."""

    per_customer_per_day: int = Field(default=0, ge=0, le=1000)
    sends_per_hour: int = Field(default=0, ge=0, le=10_000_000)


# --- Steps ---------------------------------------------------------------------------------------
class _Step(_Strict):
    id: StepId
    name: str = Field(default="", max_length=120)
    # A step on a loop must bound it: a run visiting it more often exits ("loop limit").
    max_visits: int | None = Field(default=None, ge=1, le=1000)


class SendStep(_Step):
    type: Literal["send"]
    template_id: int
    channel: str = BEST  # a channel, or "best"
    # What happens when the customer cannot be reached (no consent, no address, capped):
    # "continue" to `next`, "exit" the journey, or go to a step. Publishing requires it.
    on_unreachable: Literal["continue", "exit"] | StepId | None = None
    next: Next = None
    template_version_id: int | None = None  # pinned when the journey is published


class SurveyStep(_Step):
    """Send survey `survey_id` (NPS, CSAT or CES, owned by analytics) on `channel` or the best
    one. Ways out as a send's: `next` once sent, `on_unreachable` when it cannot be. To wait for
    the answer, follow it with a wait for the outcome "survey" (the `survey_answered` event)."""

    type: Literal["survey"]
    survey_id: int
    channel: str = BEST
    on_unreachable: Literal["continue", "exit"] | StepId | None = None
    next: Next = None


class Outcome(_Strict):
    """One named way out of a wait.

    - message: the message sent by `step` (default: the run's last send) was delivered, opened,
      clicked or replied to;
    - survey: the customer answered survey `survey_id` (the `survey_answered` event);
    - event: an event named `event`; `match` maps event properties to values, where a value
      "entry.<key>" or "context.<key>" is taken from the run (the order with *this* promo code);
    - order: a completed order (`match` as for events, e.g. {"promo_code": "context.promo_code"});
    - segment: the customer is in segment `segment_id`.
    """

    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    kind: Literal["message", "event", "order", "segment", "survey"]
    status: Literal["delivered", "opened", "clicked", "replied"] = "opened"
    step: StepId | None = None
    event: str = Field(default="", max_length=100)
    match: dict[str, Any] = Field(default_factory=dict)
    segment_id: int | None = None
    survey_id: int | None = None
    next: Next = None

    @model_validator(mode="after")
    def _complete(self) -> Outcome:
        if self.kind == "survey" and self.survey_id is None:
            raise ValueError("survey_id is required for a survey outcome")
        if self.kind == "event" and not self.event:
            raise ValueError("event is required for an event outcome")
        if self.kind == "segment" and self.segment_id is None:
            raise ValueError("segment_id is required for a segment outcome")
        return self


class WaitStep(_Step):
    """Wait for a duration, until a local time (and weekdays), or until one of `outcomes`,
    with `timeout_seconds` and `timeout_next` for when none happens."""

    type: Literal["wait"]
    mode: Literal["duration", "until_time", "outcomes"]
    seconds: int = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)
    time: str = Field(default="", pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$")  # customer's local time
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list, max_length=10)
    timeout_seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_SECONDS)
    timeout_next: Next = None
    next: Next = None  # after a duration or a time

    @model_validator(mode="after")
    def _mode_fields(self) -> WaitStep:
        if self.mode == "duration" and self.seconds <= 0:
            raise ValueError("seconds must be positive for a duration wait")
        if self.mode == "until_time" and not self.time:
            raise ValueError("time is required for a wait until a time of day")
        if self.mode == "outcomes" and not self.outcomes:
            raise ValueError("a wait for outcomes needs at least one outcome")
        names = [o.name for o in self.outcomes]
        if len(set(names)) != len(names):
            raise ValueError("outcome names must be unique within the step")
        return self


class Condition(_Strict):
    """A branch case's test:
    - rule: a segment rule (docs/segments.md) on the customer: profile, attributes, RFM,
      segment membership, orders, events;
    - entry: a property of the entry event/call compared with `value`;
    - result: what an earlier step ended with (`step`'s outcome name, branch or split arm)."""

    kind: Literal["rule", "entry", "result"]
    rule: dict[str, Any] | None = None
    property: str = Field(default="", max_length=100)
    op: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"] = "eq"
    value: Any = None
    step: StepId | None = None

    @model_validator(mode="after")
    def _complete(self) -> Condition:
        if self.kind == "rule" and not self.rule:
            raise ValueError("rule is required for a rule condition")
        if self.kind == "entry" and not self.property:
            raise ValueError("property is required for an entry condition")
        if self.kind == "result" and not self.step:
            raise ValueError("step is required for a result condition")
        return self


class BranchCase(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    condition: Condition
    next: Next = None


class BranchStep(_Step):
    """The first case whose condition holds; else `default_next`."""

    type: Literal["branch"]
    cases: list[BranchCase] = Field(min_length=1, max_length=10)
    default_next: Next = None


class SplitArm(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    percent: float = Field(gt=0, le=100)
    next: Next = None


class SplitStep(_Step):
    """Random percentages or an A/B test, with an optional holdout that exits at once; the arm
    comes from a hash of (journey, step, customer), so a customer always lands in the same one."""

    type: Literal["split"]
    mode: Literal["random", "ab"] = "random"
    arms: list[SplitArm] = Field(min_length=1, max_length=10)
    holdout_percent: float = Field(default=0, ge=0, lt=100)

    @model_validator(mode="after")
    def _sums_to_100(self) -> SplitStep:
        total = sum(a.percent for a in self.arms) + self.holdout_percent
        if abs(total - 100) > 0.001:
            raise ValueError("the arms and the holdout must add up to 100 percent")
        return self


ACTIONS = (
    "promo_issue",
    "points_award",
    "points_spend",
    "attribute_set",
    "segment_add",
    "segment_remove",
    "webhook",
    "conversation_open",
)


class ActionStep(_Step):
    """- promo_issue: reserve a code of `pool_id` (kept in the run as context.promo_code);
    - points_award / points_spend: `points` (awarded points expire as the loyalty settings say);
    - attribute_set: `key` = `value`;
    - segment_add / segment_remove: the static segment `segment_id`;
    - webhook: a signed `journey.action` event with `payload` to the CRM webhooks;
    - conversation_open: a support conversation on `channel` with `note` for the agents."""

    type: Literal["action"]
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    pool_id: int | None = None
    points: int = Field(default=0, ge=0, le=10_000_000)
    key: str = Field(default="", max_length=100)
    value: Any = None
    segment_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    channel: str = Field(default="email", max_length=10)
    note: str = Field(default="", max_length=2000)
    next: Next = None

    @model_validator(mode="after")
    def _complete(self) -> ActionStep:
        needs = {
            "promo_issue": ("pool_id", self.pool_id is not None),
            "points_award": ("points", self.points > 0),
            "points_spend": ("points", self.points > 0),
            "attribute_set": ("key", bool(self.key)),
            "segment_add": ("segment_id", self.segment_id is not None),
            "segment_remove": ("segment_id", self.segment_id is not None),
        }
        field_name, ok = needs.get(self.action, ("", True))
        if not ok:
            raise ValueError(f"{field_name} is required for {self.action}")
        return self


class CascadeChannel(_Strict):
    channel: str
    template_id: int
    wait_seconds: int = Field(ge=1, le=MAX_WAIT_SECONDS)
    outcome: Literal["delivered", "opened", "clicked", "replied", "converted"] = "opened"
    template_version_id: int | None = None  # pinned when the journey is published


class CascadeStep(_Step):
    """Channels in order, each with its template and a wait for its outcome; a channel the
    customer cannot be reached on is skipped (the reason is logged). Repeats `rounds` times
    with `round_pause_seconds` between rounds. Ends on the outcome (`next_on_outcome`), on the
    attached promo code being redeemed (`next_on_outcome` too) or expiring, at `deadline_seconds`
    after the cascade started, or when the rounds run out (all of these: `next`). The journey's
    goal ends the run in any case."""

    type: Literal["cascade"]
    channels: list[CascadeChannel] = Field(min_length=1, max_length=6)
    rounds: int = Field(default=1, ge=1, le=20)
    round_pause_seconds: int = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)
    stop_on_promo: bool = True
    deadline_seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_SECONDS)
    next_on_outcome: Next = None
    next: Next = None


class ExitStep(_Step):
    type: Literal["exit"]


Step = Annotated[
    SendStep | SurveyStep | WaitStep | BranchStep | SplitStep | ActionStep | CascadeStep | ExitStep,
    Field(discriminator="type"),
]


class Definition(_Strict):
    trigger: Trigger
    entry: Entry = Field(default_factory=Entry)
    goal: Goal | None = None
    exits: Exits = Field(default_factory=Exits)
    limits: Limits = Field(default_factory=Limits)
    start: StepId | None = None
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _ids_unique(self) -> Definition:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"step id {duplicate!r} is used twice")
        return self

    def step(self, step_id: str):
        return self.by_id().get(step_id)

    def by_id(self) -> dict[str, Any]:
        cached = self.__dict__.get("_by_id")
        if cached is None:
            cached = {s.id: s for s in self.steps}
            self.__dict__["_by_id"] = cached
        return cached


def successors(step) -> list[tuple[str, str]]:
    """(label, step id) of every way out of a step, in display order; ids may repeat."""
    out: list[tuple[str, str | None]] = []
    if step.type in ("send", "survey"):
        out.append(("next", step.next))
        if step.on_unreachable not in (None, "continue", "exit"):
            out.append(("unreachable", step.on_unreachable))
    elif step.type == "wait":
        if step.mode == "outcomes":
            out += [(o.name, o.next) for o in step.outcomes]
            out.append(("timeout", step.timeout_next))
        else:
            out.append(("next", step.next))
    elif step.type == "branch":
        out += [(c.name, c.next) for c in step.cases]
        out.append(("default", step.default_next))
    elif step.type == "split":
        out += [(a.name, a.next) for a in step.arms]
    elif step.type == "cascade":
        out += [("outcome", step.next_on_outcome), ("next", step.next)]
    elif step.type == "action":
        out.append(("next", step.next))
    return [(label, target) for label, target in out if target]


def definition_parse(data: Any) -> Definition:
    """Raises pydantic.ValidationError, whose errors name the field (`loc`); see `error_loc`."""
    return Definition.model_validate(data)


def error_loc(loc: tuple, data: Any) -> tuple:
    """A pydantic error's `loc` as a path into `data`: pydantic puts the tag of a discriminated
    union (`send` in ("steps", 0, "send", "template_id")) into it, which is no field of the
    input, so a form or an API client could not find what it names."""
    path: list = []
    for part in loc:
        tags = (data.get("type"), data.get("kind")) if isinstance(data, dict) else ()
        if isinstance(part, str) and part in tags and part not in data:
            continue  # the union's tag
        path.append(part)
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            data = None
    return tuple(path)
