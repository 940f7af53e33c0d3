"""RFM three ways on the same orders: Kaskad's `rfm_compute`, one hand-written SQL statement, and
pandas over the rows read with COPY. All three must give every customer the same scores.
"""

import io
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from time import perf_counter

import psycopg

from benchmarks.segments.statements import slowest, timed_statements

SCRATCH_SQL = "bench_rfm_sql"
SCRATCH_PANDAS = "bench_rfm_pandas"
COLUMNS = "customer_id, recency_days, frequency, monetary, r, f, m, segment"


def _grid() -> dict[tuple[int, int], str]:
    from customers.services.rfm import RFM_SEGMENT_GRID

    return {
        (r, f): segment.value
        for r, row in RFM_SEGMENT_GRID.items()
        for f, segment in enumerate(row, start=1)
    }


def _until(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), dt_time.min, tzinfo=UTC)


def create_scratch_tables(url: str) -> None:
    with psycopg.connect(url) as connection:
        for table in (SCRATCH_SQL, SCRATCH_PANDAS):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(
                f"CREATE UNLOGGED TABLE {table} (customer_id BIGINT PRIMARY KEY, "
                "recency_days INTEGER NOT NULL, frequency INTEGER NOT NULL, "
                "monetary NUMERIC(16, 2) NOT NULL, r SMALLINT NOT NULL, f SMALLINT NOT NULL, "
                "m SMALLINT NOT NULL, segment VARCHAR(20) NOT NULL)"
            )


def drop_scratch_tables(url: str) -> None:
    with psycopg.connect(url) as connection:
        for table in (SCRATCH_SQL, SCRATCH_PANDAS):
            connection.execute(f"DROP TABLE IF EXISTS {table}")


def kaskad(as_of: date) -> dict:
    """`rfm_compute` in this process, through Django (stages, writes events, upserts scores)."""
    from customers.services.rfm import rfm_compute

    with timed_statements() as timings:
        started = perf_counter()
        result = rfm_compute(as_of=as_of)
        seconds = perf_counter() - started
    return {"seconds": round(seconds, 2), **result.as_dict(), "statements": slowest(timings)}


def hand_sql(url: str, as_of: date) -> dict:
    """The same scores from one INSERT … SELECT: aggregate, rank, look the segment up in an array.

    Run with the work_mem `rfm_compute` sets for its transaction (RFM_WORK_MEM), so that both get
    the same memory for the aggregate and the sorts.
    """
    from customers.services.rfm import RFM_WORK_MEM

    grid = _grid()
    # (r - 1) * 5 + f indexes the grid laid out row by row.
    segments = ", ".join(f"'{grid[(r, f)]}'" for r in range(1, 6) for f in range(1, 6))
    statement = f"""
        INSERT INTO {SCRATCH_SQL} ({COLUMNS})
        WITH agg AS (
            SELECT o.customer_id,
                   %(as_of)s::date - max(o.placed_at AT TIME ZONE 'UTC')::date AS recency_days,
                   count(*) AS frequency,
                   sum(o.total) AS monetary
            FROM customers_order o JOIN customers_customer c ON c.id = o.customer_id
            WHERE c.erased_at IS NULL AND o.status NOT IN ('cancelled', 'refunded')
              AND o.placed_at < %(until)s
            GROUP BY o.customer_id
        ), scored AS (
            SELECT agg.*,
                   1 + 5 * (rank() OVER (ORDER BY recency_days DESC) - 1) / count(*) OVER () AS r,
                   1 + 5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER () AS f,
                   1 + 5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER () AS m
            FROM agg
        )
        SELECT customer_id, recency_days, frequency, monetary, r, f, m,
               (ARRAY[{segments}])[(r - 1) * 5 + f]
        FROM scored
    """
    with psycopg.connect(url) as connection:
        connection.execute(f"TRUNCATE {SCRATCH_SQL}")
        connection.commit()
        started = perf_counter()
        connection.execute(f"SET LOCAL work_mem = '{RFM_WORK_MEM}'")
        rows = connection.execute(statement, {"as_of": as_of, "until": _until(as_of)}).rowcount
        connection.commit()
        seconds = perf_counter() - started
    return {"seconds": round(seconds, 2), "scored": rows}


def pandas_rfm(url: str, as_of: date) -> dict:
    """Read the orders with COPY into pandas and score them there; the result is stored untimed."""
    import numpy as np
    import pandas as pd

    grid = _grid()
    lookup = np.empty((6, 6), dtype=object)
    for (r, f), segment in grid.items():
        lookup[r, f] = segment

    started = perf_counter()
    buffer = io.BytesIO()
    with psycopg.connect(url) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        with connection.cursor().copy(
            "COPY (SELECT customer_id, placed_at, total, status FROM customers_order) "
            "TO STDOUT (FORMAT csv)"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        erased = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM customers_customer WHERE erased_at IS NOT NULL"
            )
        ]
    read_seconds = perf_counter() - started
    buffer.seek(0)
    orders = pd.read_csv(
        buffer,
        names=["customer_id", "placed_at", "total", "status"],
        dtype={"customer_id": "int64", "placed_at": "str", "total": "str", "status": "category"},
    )
    del buffer
    orders["placed_at"] = pd.to_datetime(orders["placed_at"], format="ISO8601", utc=True)
    # Money in integer cents, so sums are exact as PostgreSQL's numeric ones are.
    orders["cents"] = (orders["total"].astype("float64") * 100).round().astype("int64")
    counted = orders[
        ~orders["status"].isin(["cancelled", "refunded"])
        & (orders["placed_at"] < pd.Timestamp(_until(as_of)))
        & ~orders["customer_id"].isin(erased)
    ]
    agg = counted.groupby("customer_id").agg(
        last=("placed_at", "max"), frequency=("cents", "size"), cents=("cents", "sum")
    )
    as_of_ts = pd.Timestamp(as_of, tz="UTC")
    agg["recency_days"] = (as_of_ts - agg["last"].dt.floor("D")).dt.days.astype("int64")
    n = len(agg)
    # RANK() − 1 is the number of strictly worse values: rank(method="min") − 1.
    worse = {
        "r": agg["recency_days"].rank(method="min", ascending=False),
        "f": agg["frequency"].rank(method="min"),
        "m": agg["cents"].rank(method="min"),
    }
    for column, ranks in worse.items():
        agg[column] = 1 + (5 * (ranks.astype("int64") - 1)) // n
    agg["segment"] = lookup[agg["r"].to_numpy(), agg["f"].to_numpy()]
    seconds = perf_counter() - started

    statement = f"COPY {SCRATCH_PANDAS} ({COLUMNS}) FROM STDIN"
    with psycopg.connect(url) as connection, connection.cursor().copy(statement) as copy:
        for row in agg.itertuples():
            copy.write_row(
                (
                    row.Index,
                    row.recency_days,
                    row.frequency,
                    f"{row.cents // 100}.{row.cents % 100:02d}",
                    row.r,
                    row.f,
                    row.m,
                    row.segment,
                )
            )
    return {
        "seconds": round(seconds, 2),
        "read_seconds": round(read_seconds, 2),
        "rows_read": len(orders),
        "scored": n,
    }


def compare(url: str) -> dict:
    """Row-by-row equality of the three score tables, and their customers per segment."""
    tables = {"kaskad": "customers_rfmscore", "sql": SCRATCH_SQL, "pandas": SCRATCH_PANDAS}
    with psycopg.connect(url) as connection:
        per_segment = {
            source: dict(
                connection.execute(
                    f"SELECT segment, count(*) FROM {table} GROUP BY segment ORDER BY segment"
                ).fetchall()
            )
            for source, table in tables.items()
        }
        differences = {}
        for source in ("sql", "pandas"):
            a, b = tables["kaskad"], tables[source]
            differences[source] = connection.execute(
                f"SELECT (SELECT count(*) FROM (SELECT {COLUMNS} FROM {a} "
                f"EXCEPT SELECT {COLUMNS} FROM {b}) x) + (SELECT count(*) FROM "
                f"(SELECT {COLUMNS} FROM {b} EXCEPT SELECT {COLUMNS} FROM {a}) y)"
            ).fetchone()[0]
    return {
        "ok": all(count == 0 for count in differences.values()),
        "rows_differing_from_kaskad": differences,
        "customers_per_segment": per_segment["kaskad"],
        "segment_counts_equal": per_segment["kaskad"]
        == per_segment["sql"]
        == per_segment["pandas"],
    }
