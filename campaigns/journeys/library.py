"""Ready-made journeys from the seeds: each builds a Definition (as a dict) from the real things a
marketer picks (message templates per channel, a promo pool, a segment), ready to become a draft.

A library entry says what it needs (`Slot`s); `library_journey_create` checks the picks and makes
the draft through `journey_create`, so the result is an ordinary journey to review and publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.journeys.definition import MAX_WAIT_SECONDS

HOUR = 3600
DAY = 86400
# The rule of the win-back segment: RFM "At Risk" and "Can't Lose Them" (docs/segments.md).
WINBACK_RULES = {"rfm": {"segment": ["at_risk", "cant_lose_them"]}}
LOYALTY_POINTS = 500
EXPIRY_NOTICE_DAYS = 3


@dataclass(frozen=True)
class Slot:
    """One thing a library journey needs: a template with a `channel` variant, a pool or a segment."""

    key: str
    kind: str  # template | pool | segment
    label: str | Promise
    channel: str = ""
    required: bool = True
    help: str | Promise = ""


@dataclass(frozen=True)
class LibraryJourney:
    key: str
    name: str | Promise
    description: str | Promise
    slots: tuple[Slot, ...]
    build: Callable[[dict], dict]
    channels: tuple[str, ...] = field(default=())  # shown on the card

    def slot(self, key: str) -> Slot | None:
        return next((s for s in self.slots if s.key == key), None)


def _send(step_id: str, template_id: int, channel: str, nxt: str | None, name="") -> dict:
    return {
        "id": step_id,
        "type": "send",
        "name": name,
        "template_id": template_id,
        "channel": channel,
        "on_unreachable": "continue",
        "next": nxt,
    }


def _wait_order(step_id: str, seconds: int, name: str = "") -> dict:
    """The last step: keep the run open for the goal (an order converts it), then complete."""
    return {
        "id": step_id,
        "type": "wait",
        "mode": "outcomes",
        "name": name,
        "outcomes": [{"name": "ordered", "kind": "order", "next": None}],
        "timeout_seconds": seconds,
        "timeout_next": None,
    }


# --- 1. Promo cascade ----------------------------------------------------------------------------
def promo_cascade(v: dict) -> dict:
    """Issue a code, then email → SMS → Telegram until the customer reacts, three rounds with a
    two-day pause; stops when the code is redeemed or expires; goal: an order within 7 days."""
    return {
        "trigger": {
            "kind": "segment_entered",
            "segment_id": v["segment"],
            "include_current": True,
        },
        "entry": {"policy": "once"},
        "goal": {"kind": "order", "window_seconds": 7 * DAY},
        "start": "issue",
        "steps": [
            {
                "id": "issue",
                "type": "action",
                "name": _("Promo code"),
                "action": "promo_issue",
                "pool_id": v["pool"],
                "next": "cascade",
            },
            {
                "id": "cascade",
                "type": "cascade",
                "name": _("Email → SMS → Telegram"),
                "channels": [
                    {
                        "channel": "email",
                        "template_id": v["email"],
                        "wait_seconds": DAY,
                        "outcome": "opened",
                    },
                    {
                        "channel": "sms",
                        "template_id": v["sms"],
                        "wait_seconds": DAY,
                        "outcome": "clicked",
                    },
                    {
                        "channel": "telegram",
                        "template_id": v["messenger"],
                        "wait_seconds": DAY,
                        "outcome": "opened",
                    },
                ],
                "rounds": 3,
                "round_pause_seconds": 2 * DAY,
                "stop_on_promo": True,
                "next_on_outcome": "after",
                "next": None,
            },
            _wait_order("after", 5 * DAY, _("Order?")),
        ],
    }


# --- 2. Loyalty: joined the programme ------------------------------------------------------------
def loyalty_joined(v: dict) -> dict:
    """Points on joining, an email, the messenger if it is not opened, an SMS before the points
    expire; when the points are used (an order or `points_spent`), new points and again."""
    lifetime_days = int(v.get("lifetime_days") or 90)
    before_expiry = max(lifetime_days - EXPIRY_NOTICE_DAYS, 1) * DAY
    used = [
        {"name": "ordered", "kind": "order", "next": "award"},
        {"name": "spent", "kind": "event", "event": "points_spent", "next": "award"},
    ]
    return {
        "trigger": {"kind": "event", "event": "loyalty_joined"},
        "entry": {"policy": "once"},
        "start": "award",
        "steps": [
            {
                "id": "award",
                "type": "action",
                "name": _("Points"),
                "action": "points_award",
                "points": int(v.get("points") or LOYALTY_POINTS),
                "max_visits": 3,  # three rounds of points, then the run ends
                "next": "email",
            },
            _send("email", v["email"], "email", "opened", _("Email about the points")),
            {
                "id": "opened",
                "type": "wait",
                "mode": "outcomes",
                "name": _("Opened?"),
                "outcomes": [{"name": "opened", "kind": "message", "step": "email", "next": "use"}],
                "timeout_seconds": 2 * DAY,
                "timeout_next": "messenger",
            },
            _send("messenger", v["messenger"], "telegram", "use", _("Messenger")),
            {
                "id": "use",
                "type": "wait",
                "mode": "outcomes",
                "name": _("Points used?"),
                "outcomes": used,
                "timeout_seconds": min(before_expiry, MAX_WAIT_SECONDS),
                "timeout_next": "reminder",
            },
            _send("reminder", v["sms"], "sms", "last", _("SMS: points expire soon")),
            {
                "id": "last",
                "type": "wait",
                "mode": "outcomes",
                "name": _("Used before expiry?"),
                "outcomes": [dict(o, name=f"{o['name']}_late") for o in used],
                "timeout_seconds": EXPIRY_NOTICE_DAYS * DAY,
                "timeout_next": None,
            },
        ],
    }


# --- 3. Abandoned cart ---------------------------------------------------------------------------
def abandoned_cart(v: dict) -> dict:
    """An hour after `cart_abandoned`: unless that cart was checked out, an email; a day later
    an SMS with a promo code; goal: an order within 3 days. One run per cart."""
    checked_out = {
        "name": "checked_out",
        "kind": "event",
        "event": "checkout_completed",
        "match": {"cart_id": "entry.cart_id"},
        "next": "done",
    }
    return {
        "trigger": {"kind": "event", "event": "cart_abandoned"},
        "entry": {"policy": "one_active", "key": "cart_id"},
        "goal": {"kind": "order", "window_seconds": 3 * DAY},
        "start": "hour",
        "steps": [
            {
                "id": "hour",
                "type": "wait",
                "mode": "outcomes",
                "name": _("An hour: checked out?"),
                "outcomes": [checked_out],
                "timeout_seconds": HOUR,
                "timeout_next": "email",
            },
            _send("email", v["email"], "email", "day", _("Email: your cart")),
            {
                "id": "day",
                "type": "wait",
                "mode": "outcomes",
                "name": _("A day: checked out?"),
                "outcomes": [checked_out],
                "timeout_seconds": DAY,
                "timeout_next": "issue",
            },
            {
                "id": "issue",
                "type": "action",
                "name": _("Promo code"),
                "action": "promo_issue",
                "pool_id": v["pool"],
                "next": "sms",
            },
            _send("sms", v["sms"], "sms", "after", _("SMS with the code")),
            _wait_order("after", 2 * DAY, _("Order?")),
            {"id": "done", "type": "exit", "name": _("Checked out")},
        ],
    }


# --- 4. Welcome series ---------------------------------------------------------------------------
def welcome_series(v: dict) -> dict:
    """Email 1 at once, email 2 two days later, then at 10:00 local time: tips for those who
    ordered, a first-order promo code for those who did not."""
    if v.get("segment"):
        trigger = {"kind": "segment_entered", "segment_id": v["segment"]}
    else:
        trigger = {"kind": "event", "event": "signed_up"}
    return {
        "trigger": trigger,
        "entry": {"policy": "once"},
        "goal": {"kind": "order", "window_seconds": 14 * DAY},
        "start": "first",
        "steps": [
            _send("first", v["email"], "email", "two_days", _("Email 1: welcome")),
            {
                "id": "two_days",
                "type": "wait",
                "mode": "duration",
                "name": _("2 days"),
                "seconds": 2 * DAY,
                "next": "second",
            },
            _send("second", v["email_second"], "email", "morning", _("Email 2")),
            {
                "id": "morning",
                "type": "wait",
                "mode": "until_time",
                "name": _("10:00 local time"),
                "time": "10:00",
                "next": "ordered",
            },
            {
                "id": "ordered",
                "type": "branch",
                "name": _("Ordered?"),
                "cases": [
                    {
                        "name": "has_ordered",
                        "condition": {"kind": "rule", "rule": {"orders": {"count": {"gte": 1}}}},
                        "next": "tips",
                    }
                ],
                "default_next": "issue",
            },
            _send("tips", v["email_tips"], "email", None, _("Tips")),
            {
                "id": "issue",
                "type": "action",
                "name": _("First-order code"),
                "action": "promo_issue",
                "pool_id": v["pool"],
                "next": "promo",
            },
            _send("promo", v["email_promo"], "email", "after", _("First-order promo")),
            _wait_order("after", 7 * DAY, _("Order?")),
        ],
    }


# --- 5. Win-back ---------------------------------------------------------------------------------
def win_back(v: dict) -> dict:
    """RFM "At Risk" and "Can't Lose Them": 10 % holdout, then email → SMS with a promo code;
    goal: an order within 14 days."""
    return {
        "trigger": {"kind": "segment_entered", "segment_id": v["segment"]},
        "entry": {"policy": "cooldown", "cooldown_seconds": 90 * DAY},
        "goal": {"kind": "order", "window_seconds": 14 * DAY},
        "start": "holdout",
        "steps": [
            {
                "id": "holdout",
                "type": "split",
                "name": _("Holdout, 10 percent"),
                "mode": "random",
                "arms": [{"name": "treated", "percent": 90, "next": "issue"}],
                "holdout_percent": 10,
            },
            {
                "id": "issue",
                "type": "action",
                "name": _("Promo code"),
                "action": "promo_issue",
                "pool_id": v["pool"],
                "next": "cascade",
            },
            {
                "id": "cascade",
                "type": "cascade",
                "name": _("Email → SMS"),
                "channels": [
                    {
                        "channel": "email",
                        "template_id": v["email"],
                        "wait_seconds": 2 * DAY,
                        "outcome": "opened",
                    },
                    {
                        "channel": "sms",
                        "template_id": v["sms"],
                        "wait_seconds": 2 * DAY,
                        "outcome": "clicked",
                    },
                ],
                "rounds": 1,
                "stop_on_promo": True,
                "next_on_outcome": "after",
                "next": "after",
            },
            _wait_order("after", 10 * DAY, _("Order?")),
        ],
    }


def _template(key: str, channel: str, label, **kw) -> Slot:
    return Slot(key, "template", label, channel=channel, **kw)


POOL = Slot("pool", "pool", gettext_lazy("Promo code pool"))
EMAIL = _template("email", "email", gettext_lazy("Email template"))
SMS = _template("sms", "sms", gettext_lazy("SMS template"))
MESSENGER = _template("messenger", "telegram", gettext_lazy("Telegram template"))

LIBRARY: tuple[LibraryJourney, ...] = (
    LibraryJourney(
        key="promo_cascade",
        name=gettext_lazy("Promo cascade"),
        description=gettext_lazy(
            "Issues a promo code, then email → SMS → Telegram, each waiting a day for an open or"
            " a click, three rounds with a two-day pause. Stops when the code is redeemed or"
            " expires. Goal: an order within 7 days."
        ),
        slots=(
            Slot("segment", "segment", gettext_lazy("Who enters (segment)")),
            POOL,
            EMAIL,
            SMS,
            MESSENGER,
        ),
        build=promo_cascade,
        channels=("email", "sms", "telegram"),
    ),
    LibraryJourney(
        key="loyalty_joined",
        name=gettext_lazy("Loyalty: joined the programme"),
        description=gettext_lazy(
            "On the loyalty_joined event: points, an email about them, Telegram if the email is"
            " not opened in 2 days, an SMS shortly before the points expire. When the points are"
            " used, new points and round again (three rounds at most)."
        ),
        slots=(
            _template("email", "email", gettext_lazy("Email about the points")),
            _template("messenger", "telegram", gettext_lazy("Telegram message")),
            _template("sms", "sms", gettext_lazy("SMS before the points expire")),
        ),
        build=loyalty_joined,
        channels=("email", "telegram", "sms"),
    ),
    LibraryJourney(
        key="abandoned_cart",
        name=gettext_lazy("Abandoned cart"),
        description=gettext_lazy(
            "On cart_abandoned, one run per cart: an hour later, unless that cart was checked"
            " out, an email; a day later an SMS with a promo code. Goal: an order within 3 days."
        ),
        slots=(EMAIL, SMS, POOL),
        build=abandoned_cart,
        channels=("email", "sms"),
    ),
    LibraryJourney(
        key="welcome_series",
        name=gettext_lazy("Welcome series"),
        description=gettext_lazy(
            "For a new customer: email 1 at once, email 2 two days later, then at 10:00 their"
            " time tips for those who ordered and a first-order promo code for the rest."
        ),
        slots=(
            Slot(
                "segment",
                "segment",
                gettext_lazy("New customers segment"),
                required=False,
                help=gettext_lazy("Without a segment the journey starts on the signed_up event."),
            ),
            _template("email", "email", gettext_lazy("Email 1: welcome")),
            _template("email_second", "email", gettext_lazy("Email 2")),
            _template("email_tips", "email", gettext_lazy("Tips (ordered already)")),
            _template("email_promo", "email", gettext_lazy("First-order promo email")),
            POOL,
        ),
        build=welcome_series,
        channels=("email",),
    ),
    LibraryJourney(
        key="win_back",
        name=gettext_lazy("Win-back: At Risk and Can't Lose Them"),
        description=gettext_lazy(
            "For the RFM segments At Risk and Can't Lose Them: a holdout of 10 percent to measure the"
            " lift, then email → SMS with a promo code. Goal: an order within 14 days."
        ),
        slots=(
            Slot(
                "segment",
                "segment",
                gettext_lazy("Segment (RFM at risk)"),
                help=gettext_lazy(
                    "A segment with the rule RFM segment in At Risk, Can't Lose Them."
                ),
            ),
            POOL,
            EMAIL,
            SMS,
        ),
        build=win_back,
        channels=("email", "sms"),
    ),
)


def library_get(key: str) -> LibraryJourney | None:
    return next((entry for entry in LIBRARY if entry.key == key), None)


class LibraryError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def library_definition(entry: LibraryJourney, values: dict) -> dict:
    """The entry's Definition dict; LibraryError names a required slot left empty."""
    for slot in entry.slots:
        if slot.required and not values.get(slot.key):
            raise LibraryError(slot.key, _("Choose one."))
    extra = {}
    if entry.key == "loyalty_joined":
        from campaigns.loyalty.selectors import loyalty_settings_get

        extra["lifetime_days"] = loyalty_settings_get().batch_lifetime_days
    return entry.build({**extra, **values})


def library_journey_create(*, key: str, values: dict, actor=None, name: str = ""):
    """A draft journey from a library entry (the picks are real ids)."""
    from campaigns.journeys.models import Journey
    from campaigns.journeys.services.authoring import journey_create

    entry = library_get(key)
    if entry is None:
        raise LibraryError("key", _("No such ready-made journey."))
    definition = library_definition(entry, values)
    journey = journey_create(
        name=name or str(entry.name),
        description=str(entry.description),
        definition=definition,
        actor=actor,
        template_key=entry.key,
    )
    segment_id = values.get("segment")
    if segment_id:  # the map shows the journey on its segment's row before it is published
        Journey.objects.filter(pk=journey.pk).update(segment_id=segment_id)
        journey.segment_id = segment_id
    return journey
