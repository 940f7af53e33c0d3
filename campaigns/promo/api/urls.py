from django.urls import path

from campaigns.promo.api import views

urlpatterns = [
    path("promo/pools", views.PoolListCreateView.as_view(), name="promo-pools"),
    path("promo/pools/<int:pool_id>", views.PoolDetailView.as_view(), name="promo-pool"),
    path(
        "promo/pools/<int:pool_id>/archive",
        views.PoolArchiveView.as_view(),
        name="promo-pool-archive",
    ),
    path("promo/pools/<int:pool_id>/codes", views.PoolCodesView.as_view(), name="promo-codes"),
    path(
        "promo/pools/<int:pool_id>/generate",
        views.PoolGenerateView.as_view(),
        name="promo-generate",
    ),
    path("promo/pools/<int:pool_id>/import", views.PoolImportView.as_view(), name="promo-import"),
    path(
        "promo/pools/<int:pool_id>/reserve", views.PoolReserveView.as_view(), name="promo-reserve"
    ),
    path(
        "customers/<str:external_id>/promo-codes",
        views.CustomerCodesView.as_view(),
        name="customer-promo-codes",
    ),
]
