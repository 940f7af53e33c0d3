"""The cache is an optimisation wherever a request uses it (API rate limits, admin filter lists):
when it is down, requests go on without it instead of answering 500.

After a failure the cache is left alone for CACHE_RETRY_SECONDS in this process, so a dead Redis
costs one connection attempt and one logged warning per half minute, not one per request.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 30.0

T = TypeVar("T")

_unavailable_until = 0.0


def cache_or_fallback(operation: Callable[[], T], *, fallback: Callable[[], T], purpose: str) -> T:
    """`operation()`, which uses the cache; `fallback()` if the cache fails or failed just now."""
    global _unavailable_until
    if time.monotonic() < _unavailable_until:
        return fallback()
    try:
        return operation()
    except Exception:  # every cache backend has its own errors (redis-py, pymemcache, OSError)
        _unavailable_until = time.monotonic() + CACHE_RETRY_SECONDS
        logger.warning(
            "cache unavailable: %s go on without it for the next %.0f s",
            purpose,
            CACHE_RETRY_SECONDS,
            exc_info=True,
        )
        return fallback()


def cache_forget_failure() -> None:
    """Try the cache again on the next call (tests, and after a cache change)."""
    global _unavailable_until
    _unavailable_until = 0.0
