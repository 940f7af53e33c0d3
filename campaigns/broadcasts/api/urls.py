from django.urls import path

from campaigns.broadcasts.api import views

urlpatterns = [
    path("broadcasts", views.BroadcastListCreateView.as_view(), name="broadcast-list"),
    path("broadcasts/<int:broadcast_id>", views.BroadcastDetailView.as_view(), name="broadcast"),
    path(
        "broadcasts/<int:broadcast_id>/schedule",
        views.BroadcastScheduleView.as_view(),
        name="broadcast-schedule",
    ),
    path(
        "broadcasts/<int:broadcast_id>/launch",
        views.BroadcastLaunchView.as_view(),
        name="broadcast-launch",
    ),
    path(
        "broadcasts/<int:broadcast_id>/pause",
        views.BroadcastPauseView.as_view(),
        name="broadcast-pause",
    ),
    path(
        "broadcasts/<int:broadcast_id>/resume",
        views.BroadcastResumeView.as_view(),
        name="broadcast-resume",
    ),
    path(
        "broadcasts/<int:broadcast_id>/cancel",
        views.BroadcastCancelView.as_view(),
        name="broadcast-cancel",
    ),
    path(
        "broadcasts/<int:broadcast_id>/results",
        views.BroadcastResultsView.as_view(),
        name="broadcast-results",
    ),
    path(
        "broadcasts/<int:broadcast_id>/recipients",
        views.BroadcastRecipientsView.as_view(),
        name="broadcast-recipients",
    ),
]
