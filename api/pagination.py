from rest_framework.pagination import CursorPagination


class UpdatedAtCursorPagination(CursorPagination):
    """Oldest change first, so a sync client can page through `updated_since` without gaps."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
