import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from api.models import ApiKey, hash_api_key

# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer kk_<prefix>_<secret>`. request.user and request.auth are the ApiKey."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        raw_key = raw_key.strip()
        if keyword != self.keyword or not raw_key:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        parts = raw_key.split("_", 2)
        if len(parts) != 3 or parts[0] != "kk":
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        api_key = ApiKey.objects.filter(prefix=parts[1]).first()
        if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_api_key(raw_key)):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("The API key has been revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword
