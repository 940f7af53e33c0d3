"""The customers app's own workspace pages, under /app/ (see config/urls.py)."""

from django.urls import path

from customers.views import rfm, segment_builder, segments

app_name = "customers"

urlpatterns = [
    path("segments/", segments.segment_list, name="segments"),
    path("segments/new/", segment_builder.segment_new, name="segment_new"),
    path("segments/preview/", segment_builder.segment_preview_view, name="segment_preview"),
    path("segments/builder/row/", segment_builder.builder_row, name="builder_row"),
    path("segments/<int:segment_id>/members/", segments.segment_members, name="segment_members"),
    path(
        "segments/<int:segment_id>/members.csv",
        segments.segment_members_export,
        name="segment_members_csv",
    ),
    path("segments/<int:segment_id>/status/", segments.segment_status, name="segment_status"),
    path("segments/<int:segment_id>/edit/", segment_builder.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", segments.segment_delete_view, name="segment_delete"),
    path("rfm/", rfm.rfm_page, name="rfm"),
]
