from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from api.errors import error_body
from api.types import check_text

# The machine-facing parts of the site: a bad parameter there gets the API's JSON error; pages
# (admin search, tracking links, the preference page) get a plain 400.
JSON_PREFIXES = ("/api/", "/hooks/")


class RejectUnstorableParametersMiddleware:
    """Path, query parameters and headers that no database can store (NUL, lone surrogates) get
    400 naming them.

    Every view would otherwise pass them to a lookup (an external id, a filter, an API key's
    prefix, an Idempotency-Key), which PostgreSQL refuses with a 500; checking once here covers
    each path converter, filter, hand-read parameter and header alike.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _first_problem(request)
        if problem is None:
            return self.get_response(request)
        field, message = problem
        if not request.path.startswith(JSON_PREFIXES):
            return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")
        return JsonResponse(
            error_body(
                "validation_error",
                "The request is not valid.",
                [{"field": field, "message": message}],
            ),
            status=400,
        )


def _first_problem(request: HttpRequest) -> tuple[str, str] | None:
    candidates = [("path", request.path)]
    for name, values in request.GET.lists():
        candidates.append(("query", name))
        candidates.extend((name, value) for value in values)
    candidates.extend(request.headers.items())
    for field, value in candidates:
        try:
            check_text(value)
        except ValueError as exc:
            return field, str(exc)
    return None
