"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import (
    attribution,
    clv,
    dash_channels,
    dash_cohorts,
    hub,
    plans,
    surveys,
    surveys_results,
)

app_name = "analytics"

surveys_at = "analytics/surveys/"

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
    path("analytics/channels/", dash_channels.channels_page, name="channels"),
    path("analytics/cohorts/", dash_cohorts.cohorts_page, name="cohorts"),
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
    path(surveys_at, surveys.survey_list, name="surveys"),
    path(f"{surveys_at}new/", surveys.survey_new, name="survey_new"),
    path(f"{surveys_at}<int:survey_id>/", surveys_results.survey_results, name="survey"),
    path(f"{surveys_at}<int:survey_id>/edit/", surveys.survey_edit, name="survey_edit"),
    path(f"{surveys_at}<int:survey_id>/archive/", surveys.survey_archive, name="survey_archive"),
    path(f"{surveys_at}<int:survey_id>/send/", surveys.survey_send_page, name="survey_send"),
    path(
        f"{surveys_at}<int:survey_id>/<str:table>.csv",
        surveys_results.survey_results_csv,
        name="survey_csv",
    ),
]
