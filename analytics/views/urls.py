"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import clv, hub, plans

app_name = "analytics"

urlpatterns = [
    path("analytics/", hub.analytics_index, name="index"),
    # Surveys (…/surveys/…), CLV (…/clv/…), metrics and dashboards add their routes below.
    path("analytics/clv/", clv.clv_page, name="clv"),
    path("analytics/clv/refit/", clv.clv_refit, name="clv_refit"),
    path("analytics/forecast/", plans.forecast_page, name="forecast"),
    path("analytics/forecast/save/", plans.forecast_save, name="forecast_save"),
    path("analytics/forecast/<int:forecast_id>/", plans.forecast_saved, name="forecast_saved"),
    path("analytics/goals/", plans.goals_page, name="goals"),
    path("analytics/goals/new/", plans.goal_new, name="goal_new"),
    path("analytics/goals/<int:goal_id>/", plans.goal_edit, name="goal_edit"),
    path("analytics/goals/<int:goal_id>/check/", plans.goal_check_view, name="goal_check"),
    path("analytics/goals/<int:goal_id>/archive/", plans.goal_archive_view, name="goal_archive"),
]
