"""Keyset ("Show more") paging for workspace tables: newest first by primary key, never a count."""

from __future__ import annotations

from django.db.models import QuerySet

PER_PAGE = 50


def keyset_page(
    queryset: QuerySet, request, *, per_page: int = PER_PAGE, param: str = "before"
) -> tuple[list, str]:
    """One page of `queryset` (rows with a pk below `?before=`), and the next page's URL or ""."""
    raw = request.GET.get(param, "")
    if raw.isdigit():
        queryset = queryset.filter(pk__lt=int(raw))
    rows = list(queryset.order_by("-pk")[: per_page + 1])
    if len(rows) <= per_page:
        return rows, ""
    rows = rows[:per_page]
    query = request.GET.copy()
    query[param] = str(rows[-1].pk)
    return rows, f"{request.path}?{query.urlencode()}"
