"""Analytics' front page: the overview dashboard, then a card leading to each of its areas."""

from dataclasses import dataclass

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analytics.goals.selectors import goals_off_track
from analytics.overview import overview_default_filters
from analytics.views.export import csv_response, wants_csv
from analytics.views.overview import TABLES, OverviewForm, overview_context
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
    """The overview dashboard, with a card for each of analytics' other pages below it."""
    areas = []
    for area in AREAS:
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue  # an area whose pages are not installed yet
        areas.append({"url": url, "title": area.title, "text": area.text})
    default = overview_default_filters()
    form = OverviewForm(
        request.GET or None, initial={"date_from": default.date_from, "date_to": default.date_to}
    )
    filters = form.cleaned_data["filters"] if form.is_valid() else default
    data = overview_context(filters)
    if wants_csv(request) and request.GET.get("table") in TABLES:
        table = data[request.GET["table"]]
        return csv_response(f"analytics-{request.GET['table']}.csv", table["header"], table["rows"])
    ctx = {
        "page": "analytics",
        "areas": areas,
        "goals_off_track": goals_off_track(),
        "form": form,
        "filters": filters,
        "query": request.GET.urlencode(),
        **data,
    }
    return render(request, "analytics/index.html", ctx)
