from drf_spectacular.extensions import OpenApiAuthenticationExtension

from api.models import DEFAULT_API_SCOPES, ApiScope

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


INSUFFICIENT_SCOPE = "insufficient_scope: the API key lacks the scope this needs"


def document_insufficient_scope(result, generator, request, public):
    """Every operation behind an API key may answer 403 when the key lacks its scope, reads
    included; add that answer wherever a view's own list of responses leaves it out."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if not any("ApiKey" in requirement for requirement in operation.get("security", [])):
                continue
            operation.setdefault("responses", {}).setdefault(
                "403",
                {
                    "description": INSUFFICIENT_SCOPE,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            )
    return result
