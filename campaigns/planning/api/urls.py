from django.urls import path

from campaigns.planning.api import views

urlpatterns = [
    path("cjms", views.CjmListCreateView.as_view(), name="cjm-list"),
    path("cjms/<int:cjm_id>", views.CjmDetailView.as_view(), name="cjm"),
    path("strategies", views.StrategyListCreateView.as_view(), name="strategy-list"),
    path("strategies/<int:strategy_id>", views.StrategyDetailView.as_view(), name="strategy"),
    path(
        "strategies/<int:strategy_id>/content",
        views.StrategyContentView.as_view(),
        name="strategy-content",
    ),
    path(
        "strategies/<int:strategy_id>/content/<int:content_id>",
        views.StrategyContentDetailView.as_view(),
        name="strategy-content-detail",
    ),
    path(
        "strategies/<int:strategy_id>/funnel",
        views.StrategyFunnelView.as_view(),
        name="strategy-funnel",
    ),
]
