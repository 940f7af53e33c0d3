"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import clv, hub

app_name = "analytics"

urlpatterns = [
    path("analytics/", hub.analytics_index, name="index"),
    # Surveys (…/surveys/…), CLV (…/clv/…), metrics and dashboards add their routes below.
    path("analytics/clv/", clv.clv_page, name="clv"),
    path("analytics/clv/refit/", clv.clv_refit, name="clv_refit"),
]
