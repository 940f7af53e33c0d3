"""The yardstick: the broadcast's own message rows, already rendered, written with psycopg's COPY.

After the launch, its rows (every column but `id`) are copied out with `COPY … TO STDOUT (FORMAT
binary)` into a file (untimed; the file sits in the page cache). The clock then times `COPY … FROM
STDIN (FORMAT binary)` of that file into `bench_copy_message`, a table made `LIKE` the messages
table `INCLUDING ALL` (its columns, defaults, identity, checks and every index, the unique
idempotency key and the partial ones included) plus the same deferred foreign key to customers,
and the commit. So it is storing the same rows with the same indexes, without rendering, promo
codes, the policy or the queue. Streaming from a file keeps the benchmark's memory flat.
"""

from __future__ import annotations

from pathlib import Path
from time import perf_counter

import psycopg
from psycopg import sql

MESSAGES = "kaskad_channels_message"
COPY_TABLE = "bench_copy_message"
BLOCK = 1 << 20


def _columns(connection: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
            [MESSAGES],
        )
    ]


def copy_messages(url: str, source_ref_prefix: str, dump_path: Path) -> dict:
    """Dump the rows whose source_ref starts with `source_ref_prefix`, then time their COPY."""
    with psycopg.connect(url) as connection:
        columns = _columns(connection)
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(COPY_TABLE)))
        connection.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(COPY_TABLE), sql.Identifier(MESSAGES)
            )
        )
        connection.execute(
            sql.SQL(
                "ALTER TABLE {} ADD FOREIGN KEY (customer_id) REFERENCES customers_customer (id) "
                "DEFERRABLE INITIALLY DEFERRED"
            ).format(sql.Identifier(COPY_TABLE))
        )
        connection.commit()
        started = perf_counter()
        dump = sql.SQL(
            "COPY (SELECT {} FROM {} WHERE source_ref LIKE {} ORDER BY id) TO STDOUT (FORMAT binary)"
        ).format(names, sql.Identifier(MESSAGES), sql.Literal(source_ref_prefix + "%"))
        with dump_path.open("wb") as out, connection.cursor().copy(dump) as copy:
            for block in copy:
                out.write(block)
        connection.commit()
        dump_seconds = perf_counter() - started
        size = dump_path.stat().st_size
        load = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
            sql.Identifier(COPY_TABLE), names
        )
        try:
            started = perf_counter()
            with dump_path.open("rb") as source, connection.cursor().copy(load) as copy:
                while block := source.read(BLOCK):
                    copy.write(block)
            connection.commit()
            seconds = perf_counter() - started
        finally:
            dump_path.unlink(missing_ok=True)
        rows = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(COPY_TABLE))
        ).fetchone()[0]
        table_bytes = connection.execute(
            "SELECT pg_total_relation_size(%s)", [COPY_TABLE]
        ).fetchone()[0]
        connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(COPY_TABLE)))
        connection.commit()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else 0,
        "dump_seconds": round(dump_seconds, 2),
        "dump_mib": round(size / 2**20, 1),
        "table_and_indexes_mib": round(table_bytes / 2**20, 1),
    }
