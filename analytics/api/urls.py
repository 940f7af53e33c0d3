"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

from django.urls import path

from analytics.api import surveys

urlpatterns = [
    path("surveys", surveys.SurveyListCreateView.as_view(), name="survey-list"),
    path("surveys/<int:survey_id>", surveys.SurveyDetailView.as_view(), name="survey"),
    path("surveys/<int:survey_id>/send", surveys.SurveySendView.as_view(), name="survey-send"),
    path(
        "surveys/<int:survey_id>/answers",
        surveys.SurveyAnswersView.as_view(),
        name="survey-answers",
    ),
    path(
        "surveys/<int:survey_id>/scores", surveys.SurveyScoresView.as_view(), name="survey-scores"
    ),
    path("survey-answers", surveys.AnswerListView.as_view(), name="survey-answer-list"),
]
