"""Each customer's BG/NBD summary, built in the database with one GROUP BY, and its groupings.

For a calibration end (a UTC day), over the customer's completed orders placed up to that day's
end, with purchases aggregated per customer per UTC day (several orders on one day are one
purchase, as in the published CDNOW analyses):

- x: purchase days − 1 (repeat purchases), t_x: days from the first purchase day to the last,
  T: days from the first purchase day to the calibration end;
- repeat spend: the spend on the days after the first (its mean over x is the Gamma-Gamma input),
  historic revenue and order count: over every completed order.

The per-customer rows stay in a temporary table; Python only reads them grouped: identical
(x, t_x, T) with their counts for BG/NBD and identical (x, repeat spend) for Gamma-Gamma. Days are
whole numbers, so at a million customers over 18 months there are a few hundred thousand groups,
not a million rows, and never the orders themselves.

Runs on PostgreSQL and SQLite (≥ 3.25 for window functions); `_VENDOR_SQL` holds what differs.
"""

from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import numpy as np
from django.db import connection

from customers.models import Customer, Order

SUMMARY_TABLE = "kaskad_clv_summary"

_VENDOR_SQL: dict[str, dict[str, str]] = {
    "postgresql": {
        "day": "CAST(o.placed_at AT TIME ZONE 'UTC' AS date)",
        "days_between": "({later} - {earlier})",
        "calibration_end": "CAST(%(calibration_end)s AS date)",
        "float": "DOUBLE PRECISION",
    },
    "sqlite": {
        "day": "date(o.placed_at)",
        "days_between": "CAST(julianday({later}) - julianday({earlier}) AS INTEGER)",
        "calibration_end": "%(calibration_end)s",
        "float": "REAL",
    },
}


def summary_params(calibration_end: date) -> dict:
    until = datetime.combine(calibration_end + timedelta(days=1), dt_time.min, tzinfo=UTC)
    ops = connection.ops
    return {
        "completed": Order.Status.COMPLETED.value,
        "until": ops.adapt_datetimefield_value(until),
        "calibration_end": ops.adapt_datefield_value(calibration_end),
    }


def summary_statements() -> dict[str, str]:
    vendor = _VENDOR_SQL[connection.vendor]
    q = connection.ops.quote_name
    orders, customers = q(Order._meta.db_table), q(Customer._meta.db_table)
    between = vendor["days_between"]
    # Per customer per day, then per customer; the window gives each day its customer's first day
    # so that the first day's spend can be left out of the repeat spend in the same pass.
    per_customer = (
        "SELECT customer_id, COUNT(*) - 1 AS x, "
        f"{between.format(later='MAX(day)', earlier='MIN(day)')} AS recency_days, "
        f"{between.format(later=vendor['calibration_end'], earlier='MIN(day)')} AS age_days, "
        "SUM(spend) AS revenue, SUM(n) AS orders, "
        "SUM(CASE WHEN day > first_day THEN spend ELSE 0 END) AS repeat_spend "
        "FROM ("
        " SELECT customer_id, day, spend, n, MIN(day) OVER (PARTITION BY customer_id) AS first_day"
        " FROM ("
        f"  SELECT o.customer_id AS customer_id, {vendor['day']} AS day,"
        "   SUM(o.total) AS spend, COUNT(*) AS n"
        f"  FROM {orders} o JOIN {customers} c ON c.id = o.customer_id"
        "   WHERE c.erased_at IS NULL AND o.status = %(completed)s AND o.placed_at < %(until)s"
        f"  GROUP BY o.customer_id, {vendor['day']}"
        " ) days"
        ") days_with_first "
        "GROUP BY customer_id"
    )
    return {
        "drop": f"DROP TABLE IF EXISTS {SUMMARY_TABLE}",
        "create": (
            f"CREATE TEMPORARY TABLE {SUMMARY_TABLE} (customer_id BIGINT NOT NULL, "
            "x INTEGER NOT NULL, recency_days INTEGER NOT NULL, age_days INTEGER NOT NULL, "
            "revenue NUMERIC(16, 2) NOT NULL, orders INTEGER NOT NULL, "
            "repeat_spend NUMERIC(16, 2) NOT NULL)"
        ),
        "fill": (
            f"INSERT INTO {SUMMARY_TABLE} (customer_id, x, recency_days, age_days, revenue, "
            f"orders, repeat_spend) {per_customer}"
        ),
        "bgnbd_groups": (
            f"SELECT x, recency_days, age_days, COUNT(*) FROM {SUMMARY_TABLE} "
            "GROUP BY x, recency_days, age_days"
        ),
        # Customers whose repeat purchases were all free say nothing about spend. As floats:
        # numpy wants them so, and a million Decimals cost seconds.
        "gamma_gamma_groups": (
            f"SELECT x, CAST(repeat_spend AS {vendor['float']}), COUNT(*) FROM {SUMMARY_TABLE} "
            "WHERE x > 0 AND repeat_spend > 0 GROUP BY x, repeat_spend"
        ),
    }


def summary_build(cursor, calibration_end: date) -> int:
    """Fill the temporary summary table (inside the caller's transaction); returns its rows."""
    sql = summary_statements()
    cursor.execute(sql["drop"])
    cursor.execute(sql["create"])
    cursor.execute(sql["fill"], summary_params(calibration_end))
    rows = cursor.rowcount
    if connection.vendor == "postgresql":  # autovacuum never analyses temporary tables
        cursor.execute(f"ANALYZE {SUMMARY_TABLE}")
    return rows


def summary_drop(cursor) -> None:
    cursor.execute(summary_statements()["drop"])


def bgnbd_groups(cursor) -> dict[str, np.ndarray]:
    """Distinct (x, t_x days, T days) with their customer counts."""
    cursor.execute(summary_statements()["bgnbd_groups"])
    rows = np.array(cursor.fetchall(), dtype=float).reshape(-1, 4)
    return {"x": rows[:, 0], "t_x": rows[:, 1], "T": rows[:, 2], "count": rows[:, 3]}


def gamma_gamma_groups(cursor) -> dict[str, np.ndarray]:
    """Distinct (x, mean repeat spend) of repeat customers with their counts."""
    cursor.execute(summary_statements()["gamma_gamma_groups"])
    rows = np.array(cursor.fetchall(), dtype=float).reshape(-1, 3)
    x = rows[:, 0]
    return {"x": x, "m": rows[:, 1] / np.maximum(x, 1), "count": rows[:, 2]}
