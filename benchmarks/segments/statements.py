"""Where a service's time goes: each SQL statement it sends through Django, timed."""

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

SQL_PREVIEW_CHARS = 90


@contextmanager
def timed_statements() -> Iterator[list[dict]]:
    """Collect {sql, seconds, rows} for every statement run on Django's connection meanwhile."""
    from django.db import connection

    timings: list[dict] = []

    def wrapper(execute, sql, params, many, context):
        started = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            cursor = context["cursor"]
            timings.append(
                {
                    "sql": " ".join(sql.split())[:SQL_PREVIEW_CHARS],
                    "seconds": round(perf_counter() - started, 3),
                    "rows": getattr(cursor, "rowcount", None),
                }
            )

    with connection.execute_wrapper(wrapper):
        yield timings


def slowest(timings: list[dict], count: int = 8) -> list[dict]:
    return sorted(timings, key=lambda t: t["seconds"], reverse=True)[:count]
