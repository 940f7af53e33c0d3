"""Ingest benchmark: bulk API throughput against a psycopg COPY of the same rows.

Run with `make bench` or `python -m benchmarks.ingest --help`.
"""
