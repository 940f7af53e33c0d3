"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import attribution, hub

app_name = "analytics"

urlpatterns = [
    path("analytics/", hub.analytics_index, name="index"),
    # Surveys (…/surveys/…), CLV (…/clv/…), metrics and dashboards add their routes below.
    path("analytics/attribution/", attribution.attribution_page, name="attribution"),
    path("analytics/attribution/export.csv", attribution.attribution_csv, name="attribution_csv"),
    path(
        "analytics/attribution/rules/",
        attribution.attribution_setting_save,
        name="attribution_setting",
    ),
]
