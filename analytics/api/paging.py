"""Analytics' API list pages: signed cursors, as every list in the API."""

from api.pagination import SignedCursorPagination


class ByIdCursor(SignedCursorPagination):
    """Newest first: surveys, forecasts, goals."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class AnswerCursor(SignedCursorPagination):
    """Newest first, in bigger pages: survey answers."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
