"""Command-line options every benchmark shares: which PostgreSQL server and Redis database."""

import argparse
import os

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="PostgreSQL server, without a database name (env BENCH_POSTGRES_URL)",
    )


def add_redis_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        help="Redis database for the Celery broker and results; emptied (env BENCH_REDIS_URL)",
    )
