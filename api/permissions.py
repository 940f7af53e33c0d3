from rest_framework import permissions

from api.errors import ApiError
from api.models import ApiKey, ApiScope


def required_scope(view, method: str) -> str:
    """The scope a request needs: the view's `required_scopes[method]` where it declares one, else
    `read` for GET, HEAD and OPTIONS and `write` for every other method.

    A view declares only what differs, e.g. `required_scopes = {"DELETE": ApiScope.GDPR_ERASE}`.
    """
    declared = getattr(view, "required_scopes", {})
    if method in declared:
        return declared[method]
    return ApiScope.READ if method in permissions.SAFE_METHODS else ApiScope.WRITE


class HasApiKeyScope(permissions.BasePermission):
    """An active key with the scope the view and method require; 403 `insufficient_scope` names
    the missing one."""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False  # DRF answers 401 not_authenticated
        scope = required_scope(view, request.method)
        if api_key.has_scope(scope):
            return True
        raise ApiError(
            f"This API key lacks the {scope} scope.",
            code="insufficient_scope",
            status_code=403,
        )
