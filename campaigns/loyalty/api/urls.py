from django.urls import path

from campaigns.loyalty.api import views

urlpatterns = [
    path(
        "customers/<str:external_id>/points",
        views.PointsBalanceView.as_view(),
        name="customer-points",
    ),
    path(
        "customers/<str:external_id>/points/history",
        views.PointsHistoryView.as_view(),
        name="customer-points-history",
    ),
    path(
        "customers/<str:external_id>/points/earn",
        views.PointsEarnView.as_view(),
        name="customer-points-earn",
    ),
    path(
        "customers/<str:external_id>/points/spend",
        views.PointsSpendView.as_view(),
        name="customer-points-spend",
    ),
]
