"""The yardstick: the same rows written with psycopg's COPY, one transaction per entity."""

from time import perf_counter

import psycopg
from psycopg import sql

from benchmarks.ingest.workload import COLUMNS, TABLES_WITH_GIVEN_IDS, Workload


def copy_workload(database_url: str, workload: Workload) -> float:
    """COPY every table of the workload and commit; returns the seconds that took.

    The rows are built beforehand (as the API bodies are serialised beforehand), so the time is
    psycopg adapting and sending them plus PostgreSQL storing and indexing them.
    """
    with psycopg.connect(database_url) as connection:
        started = perf_counter()
        with connection.cursor() as cursor:
            for table, rows in workload.rows.items():
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table]))
                )
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                if table in TABLES_WITH_GIVEN_IDS:
                    cursor.execute(
                        sql.SQL(
                            "SELECT setval(pg_get_serial_sequence({table}, 'id'), max(id)) FROM {ident}"
                        ).format(table=sql.Literal(table), ident=sql.Identifier(table))
                    )
        connection.commit()
        return perf_counter() - started
