from base64 import b64decode, b64encode
from urllib import parse

from django.core import signing
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

from api.errors import ApiError

_CURSOR_SIGNER = signing.Signer(salt="api.pagination.cursor")


class InvalidCursor(ApiError):
    def __init__(self) -> None:
        super().__init__(
            "The cursor is not one this API gave out; use `next` or `previous` as returned.",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "not a cursor this API gave out"}],
        )


def page_size(raw: str | None, *, default: int, maximum: int) -> int:
    """A `limit` query parameter: a whole number from 1, capped at `maximum`; otherwise 400."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ApiError(
            "limit must be a whole number from 1.",
            code="validation_error",
            errors=[{"field": "limit", "message": "must be 1 or more"}],
        )
    return min(int(raw), maximum)


class SignedCursorPagination(CursorPagination):
    """DRF's cursor pagination with signed cursors, and 400 `invalid_cursor` for any other.

    A cursor carries the last row's ordering value, which is put into the next page's query as
    it is; signing it means only positions this API produced ever reach the database (a forged
    one would be a 500 there), and a malformed cursor is the client's error, not a missing page.
    """

    def decode_cursor(self, request) -> Cursor | None:
        signed = request.query_params.get(self.cursor_query_param)
        if signed is None:
            return None
        try:
            tokens = parse.parse_qs(
                b64decode(_CURSOR_SIGNER.unsign(signed).encode("ascii")).decode("ascii"),
                keep_blank_values=True,
            )
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
        except (signing.BadSignature, TypeError, ValueError):
            raise InvalidCursor() from None
        if not 0 <= offset <= self.offset_cutoff:
            raise InvalidCursor()
        return Cursor(offset=offset, reverse=reverse, position=tokens.get("p", [None])[0])

    def get_page_size(self, request) -> int:
        # DRF would silently use the default page size for a bad limit, so a typo went unnoticed.
        return page_size(
            request.query_params.get(self.page_size_query_param),
            default=self.page_size,
            maximum=self.max_page_size,
        )

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless given; "
                    f"more than {self.max_page_size} gives {self.max_page_size}."
                )
        return parameters

    def encode_cursor(self, cursor: Cursor) -> str:
        tokens = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        encoded = b64encode(parse.urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
        return replace_query_param(
            self.base_url, self.cursor_query_param, _CURSOR_SIGNER.sign(encoded)
        )


class UpdatedAtCursorPagination(SignedCursorPagination):
    """Oldest change first, so a sync client can page through `updated_since` without gaps."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
