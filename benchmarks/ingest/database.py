"""The benchmark's own PostgreSQL databases: created fresh, migrated, checked, dropped."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# What each table holds, without ids and write-time timestamps, which differ between the API and
# the COPY by design. Summing row hashes makes the fingerprint independent of insertion order.
FINGERPRINTS = {
    "customers_customer": """
        SELECT concat_ws('|', external_id, email, phone, first_name, last_name, locale,
                         timezone, birth_date, lifecycle_stage, attributes::text)
        FROM customers_customer""",
    "customers_channelidentity": """
        SELECT concat_ws('|', c.external_id, i.channel, i.address)
        FROM customers_channelidentity i JOIN customers_customer c ON c.id = i.customer_id""",
    "customers_event": """
        SELECT concat_ws('|', e.event_id, c.external_id, e.name, e.properties::text,
                         e.occurred_at, e.source)
        FROM customers_event e JOIN customers_customer c ON c.id = e.customer_id""",
    "customers_product": """
        SELECT concat_ws('|', sku, name, category, price, currency) FROM customers_product""",
    "customers_order": """
        SELECT concat_ws('|', o.external_id, c.external_id, o.status, o.placed_at, o.total,
                         o.currency, o.promo_code)
        FROM customers_order o JOIN customers_customer c ON c.id = o.customer_id""",
    "customers_orderitem": """
        SELECT concat_ws('|', o.external_id, i.sku, i.name, i.category, i.quantity, i.price,
                         p.sku)
        FROM customers_orderitem i
        JOIN customers_order o ON o.id = i.order_id
        LEFT JOIN customers_product p ON p.id = i.product_id""",
}


def database_url(server_url: str, name: str) -> str:
    return f"{server_url.rstrip('/')}/{name}"


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(database_url(server_url, "postgres"), autocommit=True)


def create(server_url: str, name: str, *, template: str | None = None) -> None:
    """Drop `name` if a previous run left it behind, then create it (from `template` if given)."""
    drop(server_url, name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin(server_url) as connection:
        connection.execute(statement)


def drop(server_url: str, name: str) -> None:
    with _admin(server_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command against the benchmark database; returns its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        return {
            table: connection.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in FINGERPRINTS
        }


def fingerprints(url: str) -> dict[str, str]:
    with psycopg.connect(url) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        return {
            table: str(
                connection.execute(
                    f"SELECT count(*), coalesce(sum(hashtextextended(row, 0)::numeric), 0) "
                    f"FROM ({query}) AS rows (row)"
                ).fetchone()
            )
            for table, query in FINGERPRINTS.items()
        }


def server_version(url: str) -> str:
    with psycopg.connect(url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]
