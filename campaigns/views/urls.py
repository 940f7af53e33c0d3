"""The campaigns app's workspace pages, under /app/campaigns/ (see config/urls.py)."""

from django.urls import path

from campaigns.views import hub

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", hub.campaigns_index, name="index"),
    # Templates (/app/campaigns/templates/…), promo codes (…/promo/…), loyalty (…/loyalty/…),
    # recommendations (…/recommendations/…) and broadcasts add their routes below.
]
