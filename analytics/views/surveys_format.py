"""How scores read on the survey pages: one place for signs, percents and intervals."""

from __future__ import annotations

from django.utils.formats import number_format

from analytics.models.surveys import SurveyKind
from analytics.surveys.scores import Interval, Score


def num(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else number_format(round(value, decimals), decimals)


def signed(value: float | None, decimals: int = 1) -> str:
    """NPS and CES's net share read with their sign: +30, −12."""
    if value is None:
        return "—"
    text = number_format(round(abs(value), decimals), decimals)
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def pct(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{number_format(round(value, decimals), decimals)} %"


def interval(value: Interval | None, kind_signed: bool = False, decimals: int = 1) -> str:
    if value is None:
        return "—"
    show = signed if kind_signed else num
    return f"{show(value.low, decimals)} … {show(value.high, decimals)}"


def headline(score: Score) -> dict:
    """The score as shown: its value, its 95 % interval and, for CES, the net share too."""
    if score.kind == SurveyKind.CES:
        return {
            "value": num(score.mean, 2),
            "interval": interval(score.mean_interval, decimals=2),
            "net": signed(score.score),
            "net_interval": interval(score.score_interval, kind_signed=True),
        }
    if score.kind == SurveyKind.CSAT:
        return {"value": pct(score.score), "interval": interval(score.score_interval)}
    return {"value": signed(score.score), "interval": interval(score.score_interval, True)}


def row(score: Score) -> dict:
    """A table row's cells for one group."""
    return {
        "sends": score.sends,
        "responses": score.responses,
        "rate": pct(score.response_rate * 100 if score.response_rate is not None else None),
        **headline(score),
    }
