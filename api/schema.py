"""The OpenAPI schema: what every operation shares, added in one place.

Views declare their success response and the errors only they can give (409 already_exists,
422 idempotency_key_reused, …). The errors that the shared machinery answers — authentication,
scopes, throttling, the JSON parser, path lookups, query validation, idempotency — are added
here to every operation they can reach, so that no endpoint can forget one.
"""

from typing import Any

from drf_spectacular.contrib.pydantic import PydanticExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api.idempotency import IDEMPOTENCY_HEADER, MAX_IDEMPOTENCY_KEY_LENGTH, honours_idempotency_key
from api.models import DEFAULT_API_SCOPES, ApiScope
from api.types import NO_NUL_PATTERN

ERROR_DESCRIPTIONS = {
    400: "validation_error, malformed_json, invalid_cursor or invalid_idempotency_key",
    401: "not_authenticated or authentication_failed",
    403: "insufficient_scope (the API key's scope does not allow this)",
    404: "not_found",
    409: "already_exists or idempotency_request_in_progress",
    413: "too_many_items or request_too_large",
    415: "unsupported_media_type (send application/json)",
    422: "idempotency_key_reused (same key, different body)",
    429: "rate_limited; see Retry-After",
}


class ErrorItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(required=False, help_text="Item position, in batches.")
    field = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable; branch on this, not on message.")
    message = serializers.CharField()
    errors = ErrorItemSerializer(many=True, required=False)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Responses for errors a view gives itself, for `@extend_schema(responses=...)`."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


class KaskadAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        idempotent = honours_idempotency_key(getattr(self.view, method.lower(), None))
        if idempotent:
            operation.setdefault("parameters", []).append(_idempotency_key_parameter())
        for parameter in operation.get("parameters", []):
            _document_no_nul(parameter["schema"])
        responses = operation["responses"]
        for code in sorted(self._shared_error_statuses(operation, idempotent=idempotent)):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    error_responses(code)[code], str(code)
                )
        for status, links in getattr(self.view, "openapi_links", {}).get(self.method, {}).items():
            responses[str(status)]["links"] = links
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _shared_error_statuses(self, operation: dict[str, Any], *, idempotent: bool) -> set[int]:
        # RejectUnstorableParametersMiddleware: a NUL in any path, query or header is 400.
        codes: set[int] = {400}
        if operation.get("security"):
            # ApiKeyAuthentication, HasApiKeyScope (whether a key's scopes allow the operation is
            # decided per key, so any operation can be 403), ApiKeyRateThrottle.
            codes |= {401, 403, 429}
        parameters = operation.get("parameters", [])
        if any(parameter["in"] == "path" for parameter in parameters):
            codes.add(404)
        if "requestBody" in operation:
            codes |= {413, 415}  # FastJSONParser
        if idempotent:
            codes |= {409, 422}
        return codes


def links_to(operation_ids: list[str], *, parameter: str, field: str) -> dict[str, Any]:
    """OpenAPI links from a response to operations on what it returned: its `field` fills their
    path `parameter`. A view declares them as `openapi_links = {"POST": {201: links_to(...)}}`;
    clients and schemathesis' stateful tests follow them."""
    return {
        operation_id: {
            "operationId": operation_id,
            "parameters": {parameter: f"$response.body#/{field}"},
        }
        for operation_id in operation_ids
    }


def _document_no_nul(schema: dict[str, Any]) -> None:
    """RejectUnstorableParametersMiddleware refuses a NUL in any parameter: the schema says so."""
    if schema.get("type") == "array":
        _document_no_nul(schema.get("items", {}))
    elif schema.get("type") == "string" and not {"pattern", "enum", "format"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN


def _idempotency_key_parameter() -> dict[str, Any]:
    return {
        "in": "header",
        "name": IDEMPOTENCY_HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
        "description": "Retrying with the same key returns the first response for 24 hours; "
        "the same key with a different request is 422.",
    }


class ValidatingPydanticExtension(PydanticExtension):
    """Request bodies documented as pydantic validates them, not as it would serialise them.

    The stock extension asks pydantic for its serialisation schema, which for instance calls a
    Decimal a string although numbers are accepted too.
    """

    priority = 1

    def map_serializer(self, auto_schema, direction):
        mode = "validation" if direction == "request" else "serialization"
        schema = self.target.model_json_schema(
            ref_template="#/components/schemas/{model}", mode=mode
        )
        for name, sub_schema in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, object=name, schema=sub_schema
                )
            )
        return schema


SCOPES_DESCRIPTION = (
    "An API key from `python manage.py create_api_key NAME [--scope SCOPE ...]`. Each request "
    "needs one scope: `read` for GET, `write` for other methods, except where listed below. "
    "A key without it gets 403 `insufficient_scope`, naming the scope.\n\n"
    + "\n".join(f"- `{scope.value}`: {scope.label.split(': ', 1)[1]}" for scope in ApiScope)
    + "\n\n`POST /segments/preview` saves nothing and needs only `read`. New keys get "
    + ", ".join(f"`{scope}`" for scope in DEFAULT_API_SCOPES)
    + f"; `{ApiScope.GDPR_ERASE}` is granted only explicitly."
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": SCOPES_DESCRIPTION}
