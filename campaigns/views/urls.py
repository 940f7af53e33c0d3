"""The campaigns app's workspace pages, under /app/campaigns/ (see config/urls.py)."""

from django.urls import path

from campaigns.views import hub, loyalty

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", hub.campaigns_index, name="index"),
    # Templates (/app/campaigns/templates/…), promo codes (…/promo/…), loyalty (…/loyalty/…),
    # recommendations (…/recommendations/…) and broadcasts add their routes below.
    path("campaigns/loyalty/", loyalty.loyalty_settings, name="loyalty"),
    path(
        "campaigns/loyalty/customers/<str:external_id>/adjust",
        loyalty.points_adjust_view,
        name="loyalty_adjust",
    ),
]
