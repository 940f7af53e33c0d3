"""Analytics' workspace pages, under /app/analytics/ (see config/urls.py)."""

from django.urls import path

from analytics.views import hub, surveys, surveys_results

app_name = "analytics"

surveys_at = "analytics/surveys/"

urlpatterns = [
    path("analytics/", hub.analytics_index, name="index"),
    # Surveys (…/surveys/…), CLV (…/clv/…), metrics and dashboards add their routes below.
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
