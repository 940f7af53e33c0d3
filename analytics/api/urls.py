"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

from django.urls import path

from analytics.api import attribution, clv, metrics, plans, surveys

urlpatterns = [
    path("clv", clv.ClvOverviewView.as_view(), name="clv"),
    path("customers/<str:external_id>/clv", clv.CustomerClvView.as_view(), name="customer-clv"),
    path("attribution", attribution.AttributionReportView.as_view(), name="attribution"),
    path(
        "attribution/orders/<str:external_id>",
        attribution.OrderAttributionView.as_view(),
        name="attribution-order",
    ),
    path("attribution/uplift", attribution.UpliftView.as_view(), name="attribution-uplift"),
    path("forecasts", plans.ForecastListCreateView.as_view(), name="forecast-list"),
    path("forecasts/<int:forecast_id>", plans.ForecastDetailView.as_view(), name="forecast"),
    path("goals", plans.GoalListCreateView.as_view(), name="goal-list"),
    path("goals/<int:goal_id>", plans.GoalDetailView.as_view(), name="goal"),
    path("goals/<int:goal_id>/check", plans.GoalCheckView.as_view(), name="goal-check"),
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
    path("metrics/customers", metrics.CustomersMetricsView.as_view(), name="metrics-customers"),
    path("metrics/retention", metrics.RetentionMetricsView.as_view(), name="metrics-retention"),
    path("metrics/cohorts", metrics.CohortsMetricsView.as_view(), name="metrics-cohorts"),
    path("metrics/conversion", metrics.ConversionMetricsView.as_view(), name="metrics-conversion"),
    path("metrics/funnel", metrics.FunnelMetricsView.as_view(), name="metrics-funnel"),
    path("metrics/channels", metrics.ChannelsMetricsView.as_view(), name="metrics-channels"),
]
