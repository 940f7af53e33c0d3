"""Analytics' API v1 routes (mounted under /api/v1/ in config/urls.py); each area adds its own."""

from django.urls import path

from analytics.api import attribution

urlpatterns = [
    path("attribution", attribution.AttributionReportView.as_view(), name="attribution"),
    path(
        "attribution/orders/<str:external_id>",
        attribution.OrderAttributionView.as_view(),
        name="attribution-order",
    ),
    path("attribution/uplift", attribution.UpliftView.as_view(), name="attribution-uplift"),
]
