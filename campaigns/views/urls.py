"""The campaigns app's workspace pages, under /app/campaigns/ (see config/urls.py)."""

from django.urls import path

from campaigns.views import hub, recommendations

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", hub.campaigns_index, name="index"),
    # Templates (/app/campaigns/templates/…), promo codes (…/promo/…), loyalty (…/loyalty/…),
    # recommendations (…/recommendations/…) and broadcasts add their routes below.
    path(
        "campaigns/recommendations/",
        recommendations.recommendations_index,
        name="recommendations",
    ),
    path(
        "campaigns/recommendations/refresh",
        recommendations.recommendations_refresh_view,
        name="recommendations_refresh",
    ),
    path(
        "campaigns/recommendations/refresh-customer",
        recommendations.recommendations_refresh_customer_view,
        name="recommendations_refresh_customer",
    ),
]
