from django.urls import path

from campaigns.journeys.api import runs, views

ONE = "journeys/<int:journey_id>"

urlpatterns = [
    path("journeys", views.JourneyListCreateView.as_view(), name="journey-list"),
    path(ONE, views.JourneyDetailView.as_view(), name="journey"),
    path(f"{ONE}/versions", views.JourneyVersionListView.as_view(), name="journey-versions"),
    path(
        f"{ONE}/versions/<int:number>",
        views.JourneyVersionDetailView.as_view(),
        name="journey-version",
    ),
    path(f"{ONE}/checks", views.JourneyChecksView.as_view(), name="journey-checks"),
    path(f"{ONE}/publish", views.JourneyPublishView.as_view(), name="journey-publish"),
    path(f"{ONE}/pause", views.JourneyPauseView.as_view(), name="journey-pause"),
    path(f"{ONE}/resume", views.JourneyResumeView.as_view(), name="journey-resume"),
    path(f"{ONE}/archive", views.JourneyArchiveView.as_view(), name="journey-archive"),
    path(f"{ONE}/enrollments", runs.JourneyEnrollView.as_view(), name="journey-enrol"),
    path(f"{ONE}/stats", runs.JourneyStatsView.as_view(), name="journey-stats"),
    path(f"{ONE}/dry-run", runs.JourneyDryRunView.as_view(), name="journey-dry-run"),
    path(
        "customers/<str:external_id>/journeys",
        runs.CustomerJourneysView.as_view(),
        name="customer-journeys",
    ),
]
