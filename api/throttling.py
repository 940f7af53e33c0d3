from functools import partial

from rest_framework.throttling import SimpleRateThrottle

from api.cache import cache_or_fallback


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (settings.API_THROTTLE_RATE); 429 with Retry-After past it.

    Counts live in the default cache: set CACHE_URL to Redis when several web processes run.
    When the cache is down the limit is not applied (fails open, with a logged warning): an
    unlimited API for a while is better than an API that answers 500 to every call.
    """

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        return cache_or_fallback(
            partial(super().allow_request, request, view),
            fallback=lambda: True,
            purpose="API rate limits",
        )

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
