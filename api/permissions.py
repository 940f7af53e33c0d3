from rest_framework import permissions

from api.errors import ApiError
from api.models import ApiKey


class HasApiKeyScope(permissions.BasePermission):
    """Any active key may read; only a key with the write scope may change data."""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False  # DRF answers 401 not_authenticated
        if request.method in permissions.SAFE_METHODS or api_key.can_write:
            return True
        raise ApiError(
            "This API key is read-only; use a key with the write scope.",
            code="insufficient_scope",
            status_code=403,
        )
