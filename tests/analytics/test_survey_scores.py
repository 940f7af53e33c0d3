"""NPS, CSAT and CES on hand-checked answer sets: each figure written out by hand (the arithmetic
in the comments) and checked again against scipy / numpy computing it another way."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats

from analytics.models.surveys import Survey, SurveyAnswer, SurveyKind, SurveySend
from analytics.surveys.scores import (
    ScoreFilter,
    Tally,
    score_of,
    survey_distribution,
    survey_score,
    survey_scores_by,
    survey_totals,
)
from tests.factories import CustomerFactory, SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

NPS_SCORES = [10, 10, 9, 9, 9, 8, 8, 7, 6, 2]
CSAT_SCORES = [5, 5, 4, 4, 4, 3, 2, 1]
CES_SCORES = [7, 7, 6, 6, 5, 4, 4, 3, 2, 1]
JAN = datetime(2026, 1, 15, 12, tzinfo=UTC)


def make_survey(kind: str = SurveyKind.NPS, name: str = "") -> Survey:
    return Survey.objects.create(
        name=name or f"{kind} survey", kind=kind, question={"en": "How likely…?"}
    )


def make_answers(
    survey: Survey,
    scores: list[int],
    *,
    unanswered: int = 0,
    channel: str = "email",
    sent_at: datetime = JAN,
    customers=None,
    comment: str = "",
    **send_fields,
) -> list[SurveySend]:
    """One send per score (answered with it) and `unanswered` more sends without an answer."""
    sends = []
    for i in range(len(scores) + unanswered):
        customer = customers[i] if customers else CustomerFactory()
        send = SurveySend.objects.create(
            survey=survey,
            customer=customer,
            channel=channel,
            source="manual",
            sent_at=sent_at,
            expires_at=sent_at + timedelta(days=14),
            **send_fields,
        )
        if i < len(scores):
            SurveyAnswer.objects.create(
                send=send,
                survey=survey,
                customer=customer,
                channel=channel,
                score=scores[i],
                comment=comment,
                answered_at=sent_at + timedelta(hours=2),
            )
        sends.append(send)
    return sends


def tally(scores: list[int], top: int, bottom: int, sends: int | None = None) -> Tally:
    return Tally(
        sends=len(scores) if sends is None else sends,
        responses=len(scores),
        total=sum(scores),
        squares=sum(s * s for s in scores),
        top=sum(1 for s in scores if s >= top),
        bottom=sum(1 for s in scores if s <= bottom),
    )


def coded(scores: list[int], top: int, bottom: int) -> np.ndarray:
    return np.array([1 if s >= top else -1 if s <= bottom else 0 for s in scores])


# --- The formulas -------------------------------------------------------------------------------
def test_nps_of_ten_answers_is_thirty_with_the_trinomial_interval():
    score = score_of(SurveyKind.NPS, tally(NPS_SCORES, 9, 6, sends=16))
    # Promoters 10,10,9,9,9 = 5 (50 %); passives 8,8,7 = 3; detractors 6,2 = 2 (20 %).
    assert (score.top, score.middle, score.bottom) == (5, 3, 2)
    # NPS = 50 − 20 = 30.
    assert score.score == pytest.approx(30.0)
    # Coded +1/0/−1: variance = p + d − (p − d)² = 0.5 + 0.2 − 0.09 = 0.61;
    # SE = √(0.61 / 10) = 0.246982; half-width = 1.959964 × 0.246982 = 0.484075 → ±48.4075 points.
    assert score.score_interval.low == pytest.approx(-18.4075, abs=1e-4)
    assert score.score_interval.high == pytest.approx(78.4075, abs=1e-4)
    # The same from numpy: the population variance of the coded scores, and scipy's z.
    values = coded(NPS_SCORES, 9, 6)
    half = stats.norm.ppf(0.975) * math.sqrt(values.var(ddof=0) / len(values)) * 100
    assert score.score_interval.low == pytest.approx(values.mean() * 100 - half)
    assert score.score_interval.high == pytest.approx(values.mean() * 100 + half)
    # 10 answers of 16 sends.
    assert score.response_rate == pytest.approx(10 / 16)
    # Mean = 78 / 10 = 7.8.
    assert score.mean == pytest.approx(7.8)


def test_csat_is_the_share_of_fours_and_fives_with_a_wilson_interval():
    score = score_of(SurveyKind.CSAT, tally(CSAT_SCORES, 4, 2))
    # 5,5,4,4,4 of 8 = 62.5 %.
    assert score.score == pytest.approx(62.5)
    # Wilson, p = 0.625, n = 8, z² = 3.841459: centre = (0.625 + 3.841459/16) / (1 + 3.841459/8)
    # = 0.865091 / 1.480182 = 0.584449; half = 1.959964 / 1.480182 × √(0.625·0.375/8 +
    # 3.841459/256) = 1.324138 × √(0.029297 + 0.015006) = 1.324138 × 0.210483 = 0.278710
    # → 0.584449 ∓ 0.278710 = 30.574 % to 86.316 %.
    assert score.score_interval.low == pytest.approx(30.5742, abs=1e-3)
    assert score.score_interval.high == pytest.approx(86.3156, abs=1e-3)
    wilson = stats.binomtest(5, 8).proportion_ci(0.95, method="wilson")
    assert score.score_interval.low == pytest.approx(wilson.low * 100)
    assert score.score_interval.high == pytest.approx(wilson.high * 100)


def test_ces_has_a_mean_with_a_t_interval_and_a_net_share():
    score = score_of(SurveyKind.CES, tally(CES_SCORES, 6, 3))
    # Mean = 45 / 10 = 4.5. Σx² = 241; s² = (241 − 45²/10) / 9 = 38.5 / 9 = 4.277778;
    # SE = √(4.277778 / 10) = 0.654047; t(0.975, 9) = 2.262157 → half = 1.479556.
    assert score.mean == pytest.approx(4.5)
    assert score.mean_interval.low == pytest.approx(3.020444, abs=1e-5)
    assert score.mean_interval.high == pytest.approx(5.979556, abs=1e-5)
    low, high = stats.t.interval(
        0.95, len(CES_SCORES) - 1, loc=np.mean(CES_SCORES), scale=stats.sem(CES_SCORES)
    )
    assert (score.mean_interval.low, score.mean_interval.high) == pytest.approx((low, high))
    # Easy (6–7): 7,7,6,6 = 4 (40 %); hard (1–3): 3,2,1 = 3 (30 %); net = 40 − 30 = 10.
    assert score.score == pytest.approx(10.0)
    # variance = 0.4 + 0.3 − 0.1² = 0.69; half = 1.959964 × √0.069 × 100 = 51.4840 points.
    assert score.score_interval.low == pytest.approx(-41.4840, abs=1e-4)
    assert score.score_interval.high == pytest.approx(61.4840, abs=1e-4)
    # The share of 6–7 alone, 40 %, with its Wilson interval.
    assert score.top_percent == pytest.approx(40.0)
    wilson = stats.binomtest(4, 10).proportion_ci(0.95, method="wilson")
    assert score.top_interval.low == pytest.approx(wilson.low * 100)
    assert score.top_interval.high == pytest.approx(wilson.high * 100)


def test_no_answers_give_no_score_and_one_answer_no_mean_interval():
    empty = score_of(SurveyKind.NPS, Tally(sends=3))
    assert (empty.score, empty.score_interval, empty.response_rate) == (None, None, 0.0)
    assert score_of(SurveyKind.NPS, Tally()).response_rate is None
    one = score_of(SurveyKind.NPS, tally([10], 9, 6))
    assert one.score == 100.0 and one.mean_interval is None
    # All promoters: the variance is 0, so the interval is the point itself.
    assert (one.score_interval.low, one.score_interval.high) == (100.0, 100.0)


# --- The queries --------------------------------------------------------------------------------
def test_survey_score_reads_the_answers_and_the_sends():
    survey = make_survey()
    make_answers(survey, NPS_SCORES, unanswered=6)
    score = survey_score(survey)
    assert (score.sends, score.responses) == (16, 10)
    assert score.score == pytest.approx(30.0)
    assert score.mean_interval.low == pytest.approx(
        stats.t.interval(0.95, 9, loc=7.8, scale=stats.sem(NPS_SCORES))[0]
    )


def test_scores_by_channel_and_period_are_one_row_each():
    survey = make_survey()
    make_answers(survey, [10, 9, 0], unanswered=1, channel="email", sent_at=JAN)
    make_answers(survey, [7, 3], channel="sms", sent_at=JAN + timedelta(days=31))
    by_channel = dict(survey_scores_by(survey, "channel"))
    # email: 2 promoters, 1 detractor of 3 → 33.3; 3 of 4 sends. sms: 0 − 50 = −50.
    assert by_channel["email"].score == pytest.approx(100 / 3)
    assert by_channel["email"].response_rate == pytest.approx(0.75)
    assert by_channel["sms"].score == pytest.approx(-50.0)
    with timezone.override("UTC"):
        by_month = survey_scores_by(survey, "period", grain="month")
    assert [key.date().isoformat() for key, _ in by_month] == ["2026-01-01", "2026-02-01"]
    assert [s.responses for _, s in by_month] == [3, 2]
    with timezone.override("UTC"):
        by_day = survey_scores_by(survey, "period", grain="day")
    assert len(by_day) == 2


def test_scores_by_segment_count_a_customer_in_each_of_their_segments():
    survey = make_survey(SurveyKind.CSAT)
    customers = [CustomerFactory() for _ in range(3)]
    vip, north = SegmentFactory(), SegmentFactory()
    SegmentMembershipFactory(segment=vip, customer=customers[0])
    SegmentMembershipFactory(segment=vip, customer=customers[1])
    SegmentMembershipFactory(segment=north, customer=customers[1])
    make_answers(survey, [5, 2, 4], customers=customers)
    by_segment = dict(survey_scores_by(survey, "segment"))
    # vip: 5 and 2 → 50 %; north: 2 → 0 %; the third customer is in no segment.
    assert by_segment[vip.pk].score == pytest.approx(50.0)
    assert by_segment[north.pk].score == pytest.approx(0.0)
    assert set(by_segment) == {vip.pk, north.pk}
    # Filtering by a segment counts each send once.
    vip_only = survey_score(survey, ScoreFilter(segment_id=vip.pk))
    assert (vip_only.sends, vip_only.responses) == (2, 2)


def test_scores_by_journey_and_broadcast_leave_out_other_sources():
    survey = make_survey(SurveyKind.CES)
    make_answers(survey, [7, 6], journey_id=41, journey_step="ask")
    make_answers(survey, [1], unanswered=1, journey_id=42)
    make_answers(survey, [4], broadcast_id=7)
    by_journey = dict(survey_scores_by(survey, "journey"))
    assert set(by_journey) == {41, 42}
    assert by_journey[41].mean == pytest.approx(6.5)
    assert by_journey[42].response_rate == pytest.approx(0.5)
    assert [key for key, _ in survey_scores_by(survey, "broadcast")] == [7]
    assert survey_score(survey, ScoreFilter(journey_id=41)).responses == 2


def test_filters_narrow_by_date_and_channel():
    survey = make_survey()
    make_answers(survey, [10], sent_at=JAN)
    make_answers(survey, [0], sent_at=JAN + timedelta(days=40), channel="sms")
    feb = ScoreFilter(start=JAN + timedelta(days=20))
    assert survey_score(survey, feb).score == -100.0
    assert survey_score(survey, ScoreFilter(end=JAN + timedelta(days=1))).score == 100.0
    assert survey_score(survey, ScoreFilter(channel="email")).responses == 1


def test_distribution_counts_every_point_of_the_scale():
    survey = make_survey(SurveyKind.CSAT)
    make_answers(survey, CSAT_SCORES)
    assert survey_distribution(survey) == [(1, 1), (2, 1), (3, 1), (4, 3), (5, 2)]


def test_totals_score_each_survey_by_its_own_kind_in_one_query(django_assert_num_queries):
    nps, csat, ces = (make_survey(k) for k in SurveyKind.values)
    unsent = make_survey(SurveyKind.NPS, "never sent")
    make_answers(nps, NPS_SCORES)
    make_answers(csat, CSAT_SCORES, unanswered=2)
    make_answers(ces, CES_SCORES)
    with django_assert_num_queries(1):
        totals = survey_totals([nps, csat, ces, unsent])
    assert totals[nps.pk].score == pytest.approx(30.0)
    assert totals[csat.pk].score == pytest.approx(62.5)
    assert totals[csat.pk].response_rate == pytest.approx(0.8)
    assert totals[ces.pk].mean == pytest.approx(4.5)
    assert totals[unsent.pk].responses == 0 and totals[unsent.pk].score is None
