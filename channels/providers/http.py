"""A pooled HTTP session for JSON gateways, and how their answers map to ProviderError.

429, 408 (request timeout), 425 (too early) and 5xx answers, timeouts and connection errors
are temporary (retried, then failover); other 4xx answers are permanent and carry the gateway's own
reason. A read timeout, or a connection lost after it was made, is also `uncertain`: the request may
have reached the gateway. A connection that could not be made (refused, DNS, connect timeout) is
certain not to have. The ProviderError raised for an answer carries it as `error.response`, so a provider can
reclassify by the gateway's own error code (`json_object(error.response)`).
"""

from __future__ import annotations

import urllib.request
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from channels.providers.base import ProviderError

POOL_SIZE = 20
# 4xx answers that say "not now" rather than "never": a retry can succeed.
TEMPORARY_CLIENT_STATUSES = frozenset({408, 425, 429})


def pooled_session(*, headers: dict[str, str] | None = None) -> requests.Session:
    session = requests.Session()
    if not any(urllib.request.getproxies().values()):
        # requests re-reads proxy and CA settings from the environment on every request, about
        # a quarter of its CPU per call; with no proxy configured there is nothing to find.
        session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if headers:
        session.headers.update(headers)
    return session


def request(
    session: requests.Session, method: str, url: str, *, describe_error=None, **kwargs: Any
) -> requests.Response:
    """Send a request; raise ProviderError unless the answer is 2xx.

    `describe_error(response)` extracts the gateway's reason from an error body. The error raised
    for a non-2xx answer carries it as `response`; timeouts and connection errors carry None.
    """
    kwargs.setdefault("timeout", settings.PROVIDER_HTTP_TIMEOUT)
    try:
        response = session.request(method, url, **kwargs)
    except requests.ConnectTimeout as exc:
        raise ProviderError(f"connect timed out: {exc}", permanent=False, code="connect") from exc
    except requests.Timeout as exc:
        raise ProviderError(
            f"timed out: {exc}", permanent=False, code="timeout", uncertain=True
        ) from exc
    except requests.ConnectionError as exc:
        if never_connected(exc):
            raise ProviderError(
                f"could not connect: {exc}", permanent=False, code="connect"
            ) from exc
        raise ProviderError(
            f"connection lost: {exc}", permanent=False, code="connection", uncertain=True
        ) from exc
    if response.ok:
        return response
    status = response.status_code
    reason = _reason(response, describe_error)
    if status == 429:
        raise ProviderError(
            f"rate limited (429): {reason}",
            permanent=False,
            code="429",
            retry_after=retry_after_seconds(response),
            response=response,
        )
    raise ProviderError(
        f"HTTP {status}: {reason}",
        permanent=status < 500 and status not in TEMPORARY_CLIENT_STATUSES,
        code=str(status),
        response=response,
    )


def never_connected(exc: requests.ConnectionError) -> bool:
    """Whether the connection was never made (refused, unknown host), so no request went out.

    With retries off, urllib3 wraps a failure to connect in MaxRetryError(reason=
    NewConnectionError); a connection that broke later (reset, closed without an answer) is a
    ProtocolError or a bare OSError."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def json_object(response: requests.Response | None) -> dict[str, Any]:
    """The answer's body as a JSON object, or {} when there is none (no answer, not JSON, or JSON
    that is not an object), so error codes can be looked up without guarding every step."""
    if response is None:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, rarely used by gateways: fall back to our backoff


def _reason(response: requests.Response, describe_error) -> str:
    if describe_error is not None:
        try:
            described = describe_error(response)
        except ValueError:
            described = None
        if described:
            return str(described)
    return response.text[:300] or response.reason
