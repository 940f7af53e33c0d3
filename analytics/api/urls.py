"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

from django.urls import path

from analytics.api import clv, plans

urlpatterns = [
    path("clv", clv.ClvOverviewView.as_view(), name="clv"),
    path("customers/<str:external_id>/clv", clv.CustomerClvView.as_view(), name="customer-clv"),
    path("forecasts", plans.ForecastListCreateView.as_view(), name="forecast-list"),
    path("forecasts/<int:forecast_id>", plans.ForecastDetailView.as_view(), name="forecast"),
    path("goals", plans.GoalListCreateView.as_view(), name="goal-list"),
    path("goals/<int:goal_id>", plans.GoalDetailView.as_view(), name="goal"),
    path("goals/<int:goal_id>/check", plans.GoalCheckView.as_view(), name="goal-check"),
]
