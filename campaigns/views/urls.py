"""The campaigns app's workspace pages, under /app/campaigns/ (see config/urls.py)."""

from django.urls import path

from campaigns.views import hub, promo

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", hub.campaigns_index, name="index"),
    # Templates (/app/campaigns/templates/…), promo codes (…/promo/…), loyalty (…/loyalty/…),
    # recommendations (…/recommendations/…) and broadcasts add their routes below.
    path("campaigns/promo/", promo.promo_pools, name="promo_pools"),
    path("campaigns/promo/new/", promo.promo_pool_new, name="promo_pool_new"),
    path("campaigns/promo/<int:pool_id>/", promo.promo_pool, name="promo_pool"),
    path(
        "campaigns/promo/<int:pool_id>/generate/",
        promo.promo_pool_generate,
        name="promo_pool_generate",
    ),
    path(
        "campaigns/promo/<int:pool_id>/import/", promo.promo_pool_import, name="promo_pool_import"
    ),
    path(
        "campaigns/promo/<int:pool_id>/archive/",
        promo.promo_pool_archive,
        name="promo_pool_archive",
    ),
]
