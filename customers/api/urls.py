from django.urls import path

from customers.api import rfm, segments, views

urlpatterns = [
    path("customers", views.CustomerListCreateView.as_view(), name="customer-list"),
    path("customers/batch", views.CustomerBatchView.as_view(), name="customer-batch"),
    path("customers/<str:external_id>", views.CustomerDetailView.as_view(), name="customer-detail"),
    path(
        "customers/<str:external_id>/export",
        views.CustomerExportView.as_view(),
        name="customer-export",
    ),
    path(
        "customers/<str:external_id>/timeline",
        views.CustomerTimelineView.as_view(),
        name="customer-timeline",
    ),
    path(
        "customers/<str:external_id>/consents",
        views.CustomerConsentListView.as_view(),
        name="customer-consents",
    ),
    path(
        "customers/<str:external_id>/consents/<str:channel>",
        views.CustomerConsentView.as_view(),
        name="customer-consent",
    ),
    path("events/batch", views.EventBatchView.as_view(), name="event-batch"),
    path("orders/batch", views.OrderBatchView.as_view(), name="order-batch"),
    path("segments/rfm-matrix", rfm.RfmMatrixView.as_view(), name="rfm-matrix"),
    path("segments", segments.SegmentListCreateView.as_view(), name="segment-list"),
    path("segments/preview", segments.SegmentPreviewView.as_view(), name="segment-preview"),
    path("segments/<int:segment_id>", segments.SegmentDetailView.as_view(), name="segment-detail"),
    path(
        "segments/<int:segment_id>/members",
        segments.SegmentMembersView.as_view(),
        name="segment-members",
    ),
    path(
        "segments/<int:segment_id>/members.csv",
        segments.SegmentMembersCsvView.as_view(),
        name="segment-members-csv",
    ),
    path(
        "segments/<int:segment_id>/refresh",
        segments.SegmentRefreshView.as_view(),
        name="segment-refresh",
    ),
]
