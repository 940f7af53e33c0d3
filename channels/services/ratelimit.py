"""Per-provider send rate limits shared by every worker, counted in the cache (Redis in production).

A fixed one-second window per provider: `rate_limit_take(provider, n)` grants up to n sends in the
current second and says how long to wait for the rest. A limit below one a second (0.5: one send
every two seconds) gets a window long enough for one send, rounded so the limit is never exceeded.
With the default local-memory cache the count is per process, so production must set CACHE_URL to
Redis (the README says so). When the cache is down, the limit fails open: every send is granted
and a warning is logged, since the gateway's own 429 answers still hold the rate (see delivery.py).

A second's counter holds every send asked for in it, granted or not, so it is a queue: the rest of
a caller who finds the second full waits for the second its place in that queue comes round. (Told
only "next second", every chunk of a broadcast held back would come back together, one would get
through and the others would be deferred again, each second: claims and updates that grow with
the square of the backlog.)
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def rate_window(per_second: float) -> tuple[int, int]:
    """(window length in seconds, sends per window) for a limit in sends per second."""
    if per_second >= 1:
        return 1, int(per_second)
    return math.ceil(1 / per_second), 1


def rate_limit_take(provider: str, wanted: int) -> tuple[int, float]:
    """Grant up to `wanted` sends now. Returns (granted, seconds to wait before the rest)."""
    per_second = float(settings.PROVIDER_RATE_LIMITS.get(provider, 0) or 0)
    if per_second <= 0 or wanted <= 0:
        return wanted, 0.0
    window_seconds, limit = rate_window(per_second)
    now = time.time()
    window = int(now // window_seconds)
    key = f"kaskad:rate:{provider}:{window_seconds}:{window}"
    try:
        used = _count(key, wanted, timeout=window_seconds * 5)
    except Exception:  # the cache's own errors (redis.ConnectionError, …) share no base class
        logger.warning("rate limit for %s not counted: the cache is unavailable", provider)
        return wanted, 0.0
    before = used - wanted
    granted = max(0, min(wanted, limit - before))
    if granted == wanted:
        return granted, 0.0
    # The first send held back is number `before + granted` (counting from 0) in this window's
    # queue; `limit` of them go per window, starting with the next one.
    windows_ahead = (before + granted) // limit
    return granted, (window + windows_ahead) * window_seconds - now


def _count(key: str, wanted: int, *, timeout: int) -> int:
    """Add `wanted` to the window's counter; the total so far."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, wanted)
    except ValueError:  # the key expired between add and incr
        cache.set(key, wanted, timeout=timeout)
        return wanted
