"""One JSON error shape for the whole API: {"code": ..., "message": ..., "errors": [...]}.

`code` is stable and documented; clients branch on it, never on `message`.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with a stable code, raised by views and services alike."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.errors = errors or []


class RequestTooLarge(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="request_too_large", status_code=413)


class ValidationFailed(ApiError):
    """Input failed validation. Each error names the item index (batches), the field and the problem."""

    def __init__(
        self, errors: list[dict[str, Any]], message: str = "The request is not valid."
    ) -> None:
        super().__init__(message, code="validation_error", status_code=400, errors=errors)


# DRF's own exceptions, mapped to Kaskad's codes.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(
    code: str, message: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": _printable(message)}
    if errors:
        body["errors"] = [
            {name: _printable(value) for name, value in error.items()} for error in errors
        ]
    return body


def _printable(value: Any) -> Any:
    """Field names and messages may quote the input; a NUL in them would make the error body
    itself unstorable (idempotency records keep it), so it is shown as the escape `\\0`."""
    return value.replace("\x00", "\\0") if isinstance(value, str) else value


def _drf_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out = []
        for field, value in detail.items():
            name = f"{prefix}.{field}" if prefix else str(field)
            out.extend(_drf_validation_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(isinstance(d, str) for d in detail):
            return [{"field": prefix or "non_field_errors", "message": str(d)} for d in detail]
        out = []
        for i, value in enumerate(detail):
            out.extend(_drf_validation_errors(value, f"{prefix}[{i}]" if prefix else str(i)))
        return out
    return [{"field": prefix or "non_field_errors", "message": str(detail)}]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    from rest_framework.views import (
        set_rollback,
    )  # imported here: rest_framework.views imports our permissions

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        body = error_body(exc.code, exc.message, exc.errors)
        status_code = exc.status_code
    elif isinstance(exc, exceptions.ValidationError):
        body = error_body(
            "validation_error", "The request is not valid.", _drf_validation_errors(exc.detail)
        )
        status_code = 400
    elif isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        body = error_body(code, str(exc.detail))
        status_code = exc.status_code
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
    else:
        logger.exception("Unhandled error in API view %s", context.get("view"))
        body = error_body("server_error", "Something went wrong on our side; it has been logged.")
        status_code = 500

    set_rollback()
    return Response(body, status=status_code, headers=headers)


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "No such endpoint."), status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
