"""Send benchmark: a campaign's marketing SMS and email from queued to sent, next to each sink's
own ceiling measured with the same client.

Run with `make bench` or `python -m benchmarks.send --help`.
"""
