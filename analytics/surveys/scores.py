"""Survey scores: NPS, CSAT and CES with response counts, response rates and 95 % intervals.

The math is pure (functions of a `Tally`, the sufficient statistics of a set of answers); the
queries are set-based: each report is one grouped query over the survey's sends, left-joined to
their answers, so sends and answers are counted in the same rows and a group's response rate is
answers ÷ sends of that group. Periods are the send's date (in the current time zone) for the same
reason: an answer counts in the period its survey went out in.

- NPS = % promoters (9–10) − % detractors (0–6). Its interval is the normal approximation for the
  mean of the scores coded +1 / 0 / −1 (a trinomial): variance p + d − (p − d)².
- CSAT = % of 4–5, with a Wilson score interval.
- CES = the average (t interval on the sample standard deviation) and the net share
  % of 6–7 − % of 1–3 (the same trinomial interval as NPS); the share of 6–7 alone also gets a
  Wilson interval, as every kind's "top" share does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from scipy.stats import t as student_t

from analytics.models.surveys import Survey, SurveyAnswer, SurveyKind, SurveySend
from customers.models import SegmentMembership

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054

# (top: scores from, bottom: scores up to) for each kind. CSAT's bottom (1–2, dissatisfied) is
# shown for information only; its score is the top share.
BANDS = {
    SurveyKind.NPS: (9, 6),
    SurveyKind.CSAT: (4, 2),
    SurveyKind.CES: (6, 3),
}

UNSENT = "unsent"  # SurveySend.State.UNSENT
GRAINS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
GROUPS = ("period", "channel", "segment", "journey", "broadcast")


@dataclass(frozen=True)
class Tally:
    """What every score is computed from: counts and sums over a set of sends and answers."""

    sends: int = 0
    responses: int = 0
    total: int = 0  # the sum of the scores
    squares: int = 0  # the sum of their squares
    top: int = 0  # promoters, satisfied (4–5), easy (6–7)
    bottom: int = 0  # detractors, dissatisfied (1–2), hard (1–3)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Score:
    kind: str
    sends: int
    responses: int
    response_rate: float | None  # 0 to 1
    score: float | None  # NPS −100…100, CSAT 0…100, CES the net share −100…100
    score_interval: Interval | None
    mean: float | None  # the average score (CES's headline; shown for every kind)
    mean_interval: Interval | None
    top: int
    middle: int
    bottom: int
    top_percent: float | None  # promoters / satisfied / easy, 0…100
    top_interval: Interval | None  # Wilson
    bottom_percent: float | None


def wilson(successes: int, n: int, z: float = Z) -> Interval | None:
    """The Wilson score interval for a proportion, as fractions (0…1)."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def net_interval(top: int, bottom: int, n: int, z: float = Z) -> Interval | None:
    """Normal interval for (top − bottom) / n, the mean of scores coded +1 / 0 / −1, as
    fractions clipped to −1…1. Its variance per answer is p + d − (p − d)²."""
    if n <= 0:
        return None
    p, d = top / n, bottom / n
    variance = max(0.0, p + d - (p - d) ** 2)
    half = z * math.sqrt(variance / n)
    return Interval(max(-1.0, p - d - half), min(1.0, p - d + half))


def mean_interval(total: int, squares: int, n: int) -> Interval | None:
    """The t interval for the mean score: mean ± t(0.975, n − 1) · s / √n (s with n − 1)."""
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (squares - total * total / n) / (n - 1))
    half = float(student_t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * math.sqrt(variance / n)
    return Interval(mean - half, mean + half)


def _percent(interval: Interval | None) -> Interval | None:
    return Interval(interval.low * 100, interval.high * 100) if interval else None


def score_of(kind: str, tally: Tally) -> Score:
    """Every figure of one kind's score from its tally."""
    n = tally.responses
    top_share = tally.top / n if n else None
    bottom_share = tally.bottom / n if n else None
    if kind == SurveyKind.CSAT:
        score = top_share * 100 if n else None
        interval = _percent(wilson(tally.top, n))
    else:  # NPS and CES's net share
        score = (tally.top - tally.bottom) / n * 100 if n else None
        interval = _percent(net_interval(tally.top, tally.bottom, n))
    return Score(
        kind=kind,
        sends=tally.sends,
        responses=n,
        response_rate=n / tally.sends if tally.sends else None,
        score=score,
        score_interval=interval,
        mean=tally.total / n if n else None,
        mean_interval=mean_interval(tally.total, tally.squares, n),
        top=tally.top,
        middle=n - tally.top - tally.bottom,
        bottom=tally.bottom,
        top_percent=top_share * 100 if n else None,
        top_interval=_percent(wilson(tally.top, n)),
        bottom_percent=bottom_share * 100 if n else None,
    )


# --- Queries ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreFilter:
    """Which sends count: sent in [start, end), on a channel, to a segment's members, from a
    journey or a broadcast. None is no filter."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    segment_id: int | None = None
    journey_id: int | None = None
    broadcast_id: int | None = None


def survey_sends(survey: Survey, filters: ScoreFilter | None = None) -> QuerySet:
    """The survey's sends that the filter keeps (the segment as a subquery, so no duplicates)."""
    f = filters or ScoreFilter()
    # An invitation the delivery policy refused ("unsent") never reached anyone: it is not a send
    # the customer could have answered, so it stays out of the response rate.
    sends = SurveySend.objects.filter(survey=survey).exclude(state=UNSENT)
    if f.start is not None:
        sends = sends.filter(sent_at__gte=f.start)
    if f.end is not None:
        sends = sends.filter(sent_at__lt=f.end)
    if f.channel:
        sends = sends.filter(channel=f.channel)
    if f.segment_id is not None:
        members = SegmentMembership.objects.filter(segment_id=f.segment_id)
        sends = sends.filter(customer_id__in=members.values("customer_id"))
    if f.journey_id is not None:
        sends = sends.filter(journey_id=f.journey_id)
    if f.broadcast_id is not None:
        sends = sends.filter(broadcast_id=f.broadcast_id)
    return sends


def _band_q(kind: str, prefix: str = "answer__") -> tuple[Q, Q]:
    top, bottom = BANDS[SurveyKind(kind)]
    return Q(**{f"{prefix}score__gte": top}), Q(**{f"{prefix}score__lte": bottom})


def _tally_aggregates(top: Q, bottom: Q) -> dict:
    return {
        "sends": Count("id"),
        "responses": Count("answer__id"),
        "total": Sum("answer__score"),
        "squares": Sum(F("answer__score") * F("answer__score")),
        "top": Count("answer__id", filter=top),
        "bottom": Count("answer__id", filter=bottom),
    }


def _tally(row: dict) -> Tally:
    return Tally(
        sends=row["sends"],
        responses=row["responses"],
        total=row["total"] or 0,
        squares=row["squares"] or 0,
        top=row["top"],
        bottom=row["bottom"],
    )


def survey_score(survey: Survey, filters: ScoreFilter | None = None) -> Score:
    """The survey's score over every send the filter keeps: one aggregate query."""
    row = survey_sends(survey, filters).aggregate(**_tally_aggregates(*_band_q(survey.kind)))
    return score_of(survey.kind, _tally(row))


def survey_scores_by(
    survey: Survey, group: str, filters: ScoreFilter | None = None, *, grain: str = "month"
) -> list[tuple[object, Score]]:
    """(key, score) per group, in key order: one grouped query.

    group: "period" (key: the start of the day / week / month, in the current time zone),
    "channel" (the channel's value), "segment" (a segment id: a customer in two segments counts
    in both; customers in none are left out), "journey" or "broadcast" (ids; sends from neither
    are left out).
    """
    sends = survey_sends(survey, filters)
    if group == "period":
        key = GRAINS[grain]("sent_at", tzinfo=timezone.get_current_timezone())
    elif group == "channel":
        key = F("channel")
    elif group == "segment":
        key = F("customer__segment_memberships__segment_id")
        sends = sends.filter(customer__segment_memberships__isnull=False)
    elif group == "journey":
        key = F("journey_id")
        sends = sends.filter(journey_id__isnull=False)
    elif group == "broadcast":
        key = F("broadcast_id")
        sends = sends.filter(broadcast_id__isnull=False)
    else:
        raise ValueError(f"unknown group {group!r}")
    rows = (
        sends.order_by()
        .values(key=key)
        .annotate(**_tally_aggregates(*_band_q(survey.kind)))
        .order_by("key")
    )
    return [(row["key"], score_of(survey.kind, _tally(row))) for row in rows]


def survey_distribution(
    survey: Survey, filters: ScoreFilter | None = None
) -> list[tuple[int, int]]:
    """(score, answers) for every point of the scale, zeros included: one grouped query."""
    low, high = survey.scale
    rows = (
        SurveyAnswer.objects.filter(send__in=survey_sends(survey, filters))
        .order_by()
        .values("score")
        .annotate(n=Count("id"))
    )
    counts = {row["score"]: row["n"] for row in rows}
    return [(score, counts.get(score, 0)) for score in range(low, high + 1)]


def survey_totals(surveys: list[Survey]) -> dict[int, Score]:
    """Each survey's all-time score, for a list: one query grouped by survey, whatever the kinds."""
    if not surveys:
        return {}
    kinds = {s.pk: s.kind for s in surveys}
    top = Q()
    bottom = Q()
    for kind in SurveyKind.values:
        kind_top, kind_bottom = _band_q(kind)
        top |= Q(survey__kind=kind) & kind_top
        bottom |= Q(survey__kind=kind) & kind_bottom
    rows = (
        SurveySend.objects.filter(survey_id__in=kinds)
        .exclude(state=UNSENT)
        .order_by()
        .values("survey_id")
        .annotate(**_tally_aggregates(top, bottom))
    )
    found = {row["survey_id"]: _tally(row) for row in rows}
    return {pk: score_of(kind, found.get(pk, Tally())) for pk, kind in kinds.items()}
