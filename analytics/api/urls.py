"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

from django.urls import path

from analytics.api import clv

urlpatterns = [
    path("clv", clv.ClvOverviewView.as_view(), name="clv"),
    path("customers/<str:external_id>/clv", clv.CustomerClvView.as_view(), name="customer-clv"),
]
