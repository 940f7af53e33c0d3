"""Per-provider send rate limits shared by every worker, counted in the cache (Redis in production).

A fixed one-second window per provider: `rate_limit_take(provider, n)` grants up to n sends in the
current second and says how long to wait for the rest. With the default local-memory cache the
count is per process, so production must set CACHE_URL to Redis (the README says so).
"""

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 1


def rate_limit_take(provider: str, wanted: int) -> tuple[int, float]:
    """Grant up to `wanted` sends now. Returns (granted, seconds to wait before the rest)."""
    limit = int(settings.PROVIDER_RATE_LIMITS.get(provider, 0) or 0)
    if limit <= 0 or wanted <= 0:
        return wanted, 0.0
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"kaskad:rate:{provider}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 5)
    try:
        used = cache.incr(key, wanted)
    except ValueError:  # the key expired between add and incr
        cache.set(key, wanted, timeout=WINDOW_SECONDS * 5)
        used = wanted
    before = used - wanted
    granted = max(0, min(wanted, limit - before))
    if granted < wanted:
        wait = (window + 1) * WINDOW_SECONDS - now
        return granted, max(wait, 0.01)
    return granted, 0.0
