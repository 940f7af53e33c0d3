"""Segments benchmark: RFM, full segment refreshes and event-to-membership latency at scale.

Run with `make bench` or `python -m benchmarks.segments --help`.
"""
