"""Analytics: one page that leads to each of its areas (dashboards, surveys, CLV…)."""

from dataclasses import dataclass

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analytics.goals.selectors import goals_off_track
from workspace.permissions import staff_permission_required


@dataclass(frozen=True)
class Area:
    url_name: str
    title: str | Promise
    text: str | Promise


# Each area's pages add an entry here as they are installed.
AREAS: list[Area] = [
    Area(
        "analytics:channels",
        _("Channel performance"),
        _(
            "Sent, delivered, opened, clicked and converted by channel, the rates between them "
            "and the SMS cost."
        ),
    ),
    Area(
        "analytics:cohorts",
        _("Cohorts"),
        _(
            "Monthly acquisition cohorts: the share of each still buying month after month, "
            "their orders and revenue."
        ),
    ),
    Area(
        "analytics:attribution",
        _("Campaigns and journeys: attribution"),
        _(
            "Revenue and conversions attributed to broadcasts, journeys, steps, channels and "
            "templates, and the uplift measured against holdout groups."
        ),
    ),
    Area(
        "analytics:clv",
        _("Customer lifetime value"),
        _("BG/NBD and Gamma-Gamma fitted nightly: each customer's predicted value, by segment."),
    ),
    Area(
        "analytics:goals",
        _("Goals"),
        _("SMART goals: a metric, a target and a deadline, with progress and a projection."),
    ),
    Area(
        "analytics:forecast",
        _("Retrospective forecast"),
        _("What a launch can expect, from the same window in earlier years: low, mean, high."),
    ),
    Area(
        "analytics:surveys",
        _("Surveys"),
        _("NPS, CSAT and CES: scores with their confidence, trends, answers and comments."),
    ),
]


@staff_permission_required("view_analytics")
def analytics_index(request):
    areas = []
    for area in AREAS:
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue  # an area whose pages are not installed yet
        areas.append({"url": url, "title": area.title, "text": area.text})
    ctx = {"page": "analytics", "areas": areas, "goals_off_track": goals_off_track()}
    return render(request, "analytics/index.html", ctx)
