"""What the forecast and goal pages show: tables, chart data and goal cards, from plain results."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from analytics.goals.values import GOAL_METRICS
from analytics.models import GoalStatus
from workspace.templatetags.workspace_tags import CHANNEL_LABELS

STATUS_TONES = {
    GoalStatus.ON_TRACK: "ok",
    GoalStatus.ACHIEVED: "ok",
    GoalStatus.OFF_TRACK: "danger",
    GoalStatus.MISSED: "danger",
    GoalStatus.NO_DATA: "neutral",
}


def status_labels() -> dict[str, str]:
    return {
        GoalStatus.ON_TRACK: _("On track"),
        GoalStatus.OFF_TRACK: _("Off track"),
        GoalStatus.ACHIEVED: _("Achieved"),
        GoalStatus.MISSED: _("Missed"),
        GoalStatus.NO_DATA: _("No data yet"),
    }


def forecast_value(metric: str, rate: float) -> str:
    """A period's or an outcome's rate as people read it: a percentage, or money per customer."""
    if metric == "revenue":
        return number_format(rate, 2, use_l10n=True, force_grouping=True)
    return f"{number_format(rate * 100, 1, use_l10n=True)} %"


def forecast_expected(metric: str, expected: float) -> str:
    """Revenue to whole units and customers to whole people: a forecast is not more precise."""
    return number_format(round(expected), 0, use_l10n=True, force_grouping=True)


def forecast_rows(result: dict) -> tuple[list, list]:
    """The forecast as one table: each period used, then the three outcomes."""
    header = [_("Period"), _("From"), _("To (exclusive)"), _("Base"), _("Converted"),
              _("Revenue"), _("Rate"), _("Expected now")]  # fmt: skip
    rows = [
        [
            _("%(n)s year(s) back") % {"n": p["years_back"]},
            p["start"],
            p["end"],
            p["base"],
            p["converted"],
            p["revenue"],
            round(p["rate"], 6),
            "",
        ]
        for p in result["periods"]
    ]
    for key, label in outcome_labels():
        outcome = result[key]
        rows.append([label, "", "", result["current_base"], "", "", round(outcome["rate"], 6),
                     round(outcome["expected"], 2)])  # fmt: skip
    return header, rows


def outcome_labels() -> list[tuple[str, str]]:
    return [
        ("pessimistic", _("Pessimistic (lowest rate)")),
        ("neutral", _("Neutral (mean rate)")),
        ("optimistic", _("Optimistic (highest rate)")),
    ]


def forecast_display(result: dict) -> dict:
    """The periods and the three outcomes, formatted for the page."""
    metric = result["metric"]
    periods = [
        p
        | {
            "rate_display": forecast_value(metric, p["rate"]),
            "revenue_display": number_format(p["revenue"], 2, use_l10n=True, force_grouping=True),
        }
        for p in result["periods"]
    ]
    if metric == "revenue":
        sub = _("revenue; %(rate)s per customer")
    elif metric == "conversion":
        sub = _("buyers; %(rate)s of today's base")
    else:
        sub = _("returning customers; %(rate)s of today's base")
    outcomes = [
        {
            "label": label,
            "expected": forecast_expected(metric, result[key]["expected"]),
            "sub": sub % {"rate": forecast_value(metric, result[key]["rate"])},
        }
        for key, label in outcome_labels()
    ]
    return {"periods": periods, "outcomes": outcomes}


def forecast_chart(result: dict) -> dict:
    """Bars: each earlier period's rate, then the three outcomes' rates, oldest year first."""
    scale = 1 if result["metric"] == "revenue" else 100
    periods = list(reversed(result["periods"]))
    labels = [
        p["start"][:4] + "–" + p["end"][:4] if p["start"][:4] != p["end"][:4] else p["start"][:4]
        for p in periods
    ]
    labels += [label for _key, label in outcome_labels()]
    values = [round(p["rate"] * scale, 2) for p in periods]
    values += [round(result[key]["rate"] * scale, 2) for key, _label in outcome_labels()]
    label = _("Revenue per customer") if result["metric"] == "revenue" else _("Rate, %")
    return {"labels": labels, "datasets": [{"label": label, "data": values, "tone": "accent"}]}


def goal_display(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    unit = GOAL_METRICS.get(metric, ("", "count"))[1]
    if unit == "%":
        return f"{number_format(value, 1, use_l10n=True)} %"
    if unit == "money":
        return number_format(value, 2, use_l10n=True, force_grouping=True)
    if unit == "count":
        return number_format(value, 0, use_l10n=True, force_grouping=True)
    return number_format(value, 1, use_l10n=True)


def goal_cards(goals) -> list[dict]:
    labels = status_labels()
    cards = []
    for goal in goals:
        cards.append(
            {
                "goal": goal,
                "metric_label": GOAL_METRICS.get(goal.metric, (goal.metric, ""))[0],
                "channel_label": CHANNEL_LABELS.get(goal.channel, goal.channel),
                "baseline": goal_display(goal.metric, goal.baseline),
                "value": goal_display(goal.metric, goal.value),
                "projected": goal_display(goal.metric, goal.projected),
                "target": goal_display(goal.metric, goal.target),
                "status_label": labels.get(goal.status, goal.status),
                "tone": STATUS_TONES.get(goal.status, "neutral"),
                "progress": _progress(goal),
            }
        )
    return cards


def _progress(goal) -> float | None:
    """How far from the baseline to the target today's value is (0–1, either direction)."""
    if goal.value is None or goal.baseline is None or goal.baseline == goal.target:
        return None
    share = (goal.value - goal.baseline) / (goal.target - goal.baseline)
    return round(max(0.0, min(1.0, share)), 3)
