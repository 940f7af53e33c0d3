from django.urls import path

from campaigns.recommendations.api import views

urlpatterns = [
    path(
        "customers/<str:external_id>/recommendations",
        views.CustomerRecommendationsView.as_view(),
        name="customer-recommendations",
    ),
    path(
        "customers/<str:external_id>/recommendations/refresh",
        views.CustomerRecommendationsRefreshView.as_view(),
        name="customer-recommendations-refresh",
    ),
]
