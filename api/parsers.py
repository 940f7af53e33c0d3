import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from api.errors import RequestTooLarge


class FastJSONParser(BaseParser):
    """JSON via orjson (several times faster than the stdlib on 1,000-item batches), with a size cap.

    DRF reads the request stream itself, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
    the cap is enforced here and answered with 413.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
