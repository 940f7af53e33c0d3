from django.urls import path

from customers.api import views

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
]
