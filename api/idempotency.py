import hashlib
from functools import wraps

import orjson
from rest_framework.response import Response

from api.errors import ApiError
from api.services import idempotency_claim, idempotency_complete, idempotency_release

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Set on handlers wrapped by @idempotent, so the OpenAPI schema documents the header on them.
_HONOURS_KEY = "honours_idempotency_key"


def _fingerprint(request) -> str:
    payload = orjson.dumps(
        [request.method, request.path, request.data], option=orjson.OPT_SORT_KEYS, default=str
    )
    return hashlib.sha256(payload).hexdigest()


def idempotent(handler):
    """Make a write view honour `Idempotency-Key`: the first response is replayed for 24 hours."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ApiError(
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
                code="invalid_idempotency_key",
                errors=[
                    {"field": IDEMPOTENCY_HEADER, "message": "must be 1 to 255 characters long"}
                ],
            )
        claim = idempotency_claim(api_key=request.auth, key=key, fingerprint=_fingerprint(request))
        if claim.is_replay:
            return Response(
                claim.record.response_body,
                status=claim.record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception:
            idempotency_release(record=claim.record)
            raise
        if response.status_code >= 500:
            idempotency_release(record=claim.record)
        else:
            body = orjson.loads(orjson.dumps(response.data, default=str))
            idempotency_complete(record=claim.record, status=response.status_code, body=body)
        return response

    setattr(wrapper, _HONOURS_KEY, True)
    return wrapper


def honours_idempotency_key(handler) -> bool:
    return getattr(handler, _HONOURS_KEY, False)
