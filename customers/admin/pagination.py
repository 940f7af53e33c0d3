"""A paginator for admin lists of huge tables: it never counts every row of an unfiltered table.

`SELECT COUNT(*)` reads the whole table (or its smallest index) in PostgreSQL, which takes
seconds at millions of rows, and the admin would run it on every page view. PostgreSQL keeps an
estimate of each table's row count (`pg_class.reltuples`, refreshed by autovacuum/ANALYZE); an
unfiltered list shows that instead. Filtered lists, small tables and SQLite count exactly.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap, and an exact number is what staff expect.
EXACT_COUNT_BELOW = 10_000


def estimated_row_count(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows an unfiltered queryset holds, or None if there is none.

    None for other databases, for querysets that filter, slice, group or combine (only a whole
    table has an estimate), and for tables never analysed (reltuples is -1 then).
    """
    connection = connections[queryset.db]
    query = queryset.query
    if (
        connection.vendor != "postgresql"
        or query.where
        or query.distinct
        or query.combinator
        or query.group_by
        or query.low_mark
        or query.high_mark is not None
    ):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """A Paginator whose count is PostgreSQL's estimate for a large unfiltered table."""

    @cached_property
    def is_estimate(self) -> bool:
        return self._estimate is not None

    @cached_property
    def _estimate(self) -> int | None:
        if not isinstance(self.object_list, QuerySet):
            return None
        estimate = estimated_row_count(self.object_list)
        return estimate if estimate is not None and estimate >= EXACT_COUNT_BELOW else None

    @cached_property
    def count(self) -> int:
        if self._estimate is not None:
            return self._estimate
        return super().count
