"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import hub

app_name = "analytics"

urlpatterns = [
    path("analytics/", hub.analytics_index, name="index"),
    # Surveys (…/surveys/…), CLV (…/clv/…), metrics and dashboards add their routes below.
]
