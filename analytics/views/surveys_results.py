"""A survey's results page: the score with its interval, the trend, the distribution, a breakdown
by channel, segment, journey or broadcast, recent comments; filters period / channel / segment;
each table as CSV."""

from __future__ import annotations

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.models.surveys import Survey, SurveyAnswer, SurveyKind
from analytics.surveys.scores import (
    ScoreFilter,
    survey_distribution,
    survey_score,
    survey_scores_by,
    survey_sends,
)
from analytics.views.surveys_format import headline, num, pct, row
from analytics.views.surveys_forms import ResultsFilterForm
from api.csv_export import csv_lines
from campaigns.broadcasts.models import Broadcast
from campaigns.journeys.models import Journey
from customers.models import Segment
from workspace.permissions import staff_permission_required
from workspace.templatetags.workspace_tags import channel_label

RECENT_COMMENTS = 20
PERIOD_FORMATS = {
    "day": "SHORT_DATE_FORMAT",
    "week": "SHORT_DATE_FORMAT",
    "month": "YEAR_MONTH_FORMAT",
}
TABLES = ("trend", "breakdown", "distribution")
# The breakdown table's groups, with the model naming each key and the page it links to.
BREAKDOWNS = {
    "channel": None,
    "segment": (Segment, "customers:segment_members", "segment_id"),
    "journey": (Journey, "campaigns:journey", "journey_id"),
    "broadcast": (Broadcast, "campaigns:broadcast", "broadcast_id"),
}


def _period_label(key, grain: str) -> str:
    return formats.date_format(key, PERIOD_FORMATS[grain])


def _score_name(kind: str) -> str:
    return {
        SurveyKind.NPS: _("NPS"),
        SurveyKind.CSAT: _("CSAT, %"),
        SurveyKind.CES: _("CES, average"),
    }[SurveyKind(kind)]


def _chart_value(kind: str, score) -> tuple:
    """(value, low, high) for the trend chart: CES plots its average, the others their score."""
    if kind == SurveyKind.CES:
        value, bounds = score.mean, score.mean_interval
    else:
        value, bounds = score.score, score.score_interval
    low, high = (bounds.low, bounds.high) if bounds else (None, None)
    return tuple(None if x is None else round(x, 2) for x in (value, low, high))


def _trend(survey: Survey, filters: ScoreFilter, grain: str) -> tuple[list[dict], dict]:
    groups = survey_scores_by(survey, "period", filters, grain=grain)
    rows = [{"label": _period_label(key, grain), **row(score)} for key, score in groups]
    values = [_chart_value(survey.kind, score) for _key, score in groups]
    chart = {
        "labels": [r["label"] for r in rows],
        "datasets": [
            {"label": _score_name(survey.kind), "data": [v[0] for v in values], "tone": "accent"},
            {"label": _("Lower bound (95 %)"), "data": [v[1] for v in values], "tone": "neutral"},
            {"label": _("Upper bound (95 %)"), "data": [v[2] for v in values], "tone": "neutral"},
        ],
    }
    return rows, chart


def _distribution(survey: Survey, filters: ScoreFilter) -> tuple[list[dict], dict]:
    counts = survey_distribution(survey, filters)
    total = sum(n for _s, n in counts)
    rows = [
        {"score": s, "answers": n, "share": pct(n / total * 100 if total else None)}
        for s, n in counts
    ]
    chart = {
        "labels": [str(s) for s, _n in counts],
        "datasets": [{"label": _("Answers"), "data": [n for _s, n in counts], "tone": "info"}],
    }
    return rows, chart


def _breakdown(survey: Survey, filters: ScoreFilter, by: str) -> list[dict]:
    """The score per channel, segment, journey or broadcast, each named (one more query for
    the names of those shown) and linked to its own page."""
    groups = survey_scores_by(survey, by, filters)
    if BREAKDOWNS[by] is None:
        return [{"label": channel_label(key), "url": "", **row(score)} for key, score in groups]
    model, url_name, kwarg = BREAKDOWNS[by]
    names = dict(model.objects.filter(pk__in=[key for key, _s in groups]).values_list("pk", "name"))
    return [
        {
            "label": names.get(key, f"#{key}"),
            "url": reverse(url_name, kwargs={kwarg: key}) if key in names else "",
            **row(score),
        }
        for key, score in groups
    ]


def _breakdown_choice(request) -> str:
    by = request.GET.get("by", "channel")
    return by if by in BREAKDOWNS else "channel"


def _comments(survey: Survey, filters: ScoreFilter) -> list[SurveyAnswer]:
    return list(
        SurveyAnswer.objects.filter(send__in=survey_sends(survey, filters))
        .exclude(comment="")
        .select_related("customer")
        .order_by("-answered_at", "-id")[:RECENT_COMMENTS]
    )


def _question(survey: Survey, language: str | None) -> str:
    """The question in the staff member's language, else English, else any."""
    texts = survey.question or {}
    code = (language or "en")[:2]
    return texts.get(code) or texts.get("en") or next(iter(texts.values()), "")


@staff_permission_required("view_analytics")
def survey_results(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    form = ResultsFilterForm(request.GET)
    filters, grain = form.values()
    by = _breakdown_choice(request)
    score = survey_score(survey, filters)
    trend_rows, trend_chart = _trend(survey, filters, grain)
    distribution_rows, distribution_chart = _distribution(survey, filters)
    ctx = {
        "page": "analytics",
        "survey": survey,
        "question": _question(survey, get_language()),
        "form": form,
        "score": score,
        "headline": headline(score),
        "rate": pct(score.response_rate * 100 if score.response_rate is not None else None),
        "bands": {
            "top": pct(score.top_percent),
            "bottom": pct(score.bottom_percent),
            "middle": pct(score.middle / score.responses * 100 if score.responses else None),
        },
        "mean": num(score.mean, 2),
        "score_name": _score_name(survey.kind),
        "trend_rows": trend_rows,
        "trend_chart": trend_chart if trend_rows else None,
        "distribution_rows": distribution_rows,
        "distribution_chart": distribution_chart if score.responses else None,
        "by": by,
        "breakdown_rows": _breakdown(survey, filters, by),
        "breakdown_tabs": _breakdown_tabs(request, by),
        "comments": _comments(survey, filters),
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/surveys/results.html", ctx)


def _breakdown_tabs(request, by: str) -> list[dict]:
    labels = {
        "channel": _("Channel"),
        "segment": _("Segment"),
        "journey": _("Journey"),
        "broadcast": _("Broadcast"),
    }
    tabs = []
    for key, label in labels.items():
        query = request.GET.copy()
        query["by"] = key
        tabs.append(
            {"label": label, "url": f"?{query.urlencode()}#sv-breakdown", "active": key == by}
        )
    return tabs


@staff_permission_required("view_analytics")
def survey_results_csv(request, survey_id: int, table: str):
    """One of the results page's tables, with the same filters, as a spreadsheet-safe CSV."""
    if table not in TABLES:
        raise Http404
    survey = get_object_or_404(Survey, pk=survey_id)
    filters, grain = ResultsFilterForm(request.GET).values()
    by = _breakdown_choice(request)
    response = StreamingHttpResponse(
        csv_lines(_csv_rows(survey, table, filters, grain, by)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-{table}.csv"'
    return response


def _csv_rows(survey: Survey, table: str, filters: ScoreFilter, grain: str, by: str):
    """Raw numbers (not the page's formatting), so a spreadsheet can compute with them."""
    if table == "distribution":
        yield ["score", "answers"]
        yield from survey_distribution(survey, filters)
        return
    if table == "trend":
        groups = survey_scores_by(survey, "period", filters, grain=grain)
        first = "period_start"
    else:
        groups = survey_scores_by(survey, by, filters)
        first = by if by == "channel" else f"{by}_id"
    yield [first, "sends", "responses", "response_rate", "score", "score_low", "score_high",
           "mean", "mean_low", "mean_high", "top", "middle", "bottom"]  # fmt: skip
    for key, s in groups:
        yield [
            key.date().isoformat() if table == "trend" else key,
            s.sends,
            s.responses,
            _round(s.response_rate, 4),
            _round(s.score),
            _round(s.score_interval.low if s.score_interval else None),
            _round(s.score_interval.high if s.score_interval else None),
            _round(s.mean),
            _round(s.mean_interval.low if s.mean_interval else None),
            _round(s.mean_interval.high if s.mean_interval else None),
            s.top,
            s.middle,
            s.bottom,
        ]


def _round(value: float | None, decimals: int = 2):
    return "" if value is None else round(value, decimals)
