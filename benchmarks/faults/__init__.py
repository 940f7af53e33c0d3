"""Fault suite: see __main__.py and benchmarks/README.md."""
