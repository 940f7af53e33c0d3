from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (settings.API_THROTTLE_RATE); 429 with Retry-After past it.

    Counts live in the default cache: set CACHE_URL to Redis when several web processes run.
    """

    scope = "api_key"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
