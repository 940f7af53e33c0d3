from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.errors import ApiError
from api.models import (
    DEFAULT_API_SCOPES,
    ApiKey,
    ApiScope,
    IdempotencyRecord,
    generate_raw_api_key,
    hash_api_key,
)


def api_key_create(*, name: str, scopes: Iterable[str] = DEFAULT_API_SCOPES) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw secret, which is never stored and shown only once."""
    prefix, raw_key = generate_raw_api_key()
    api_key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=hash_api_key(raw_key), scopes=api_scopes_clean(scopes)
    )
    return api_key, raw_key


def api_scopes_clean(scopes: Iterable[str]) -> list[str]:
    """`scopes` checked, without repeats, in ApiScope's order; ValueError names a bad one."""
    wanted = {str(scope) for scope in scopes}
    if unknown := sorted(wanted - set(ApiScope.values)):
        raise ValueError(
            f"unknown scope {unknown[0]!r}; the scopes are {', '.join(ApiScope.values)}"
        )
    if not wanted:
        raise ValueError("a key needs at least one scope")
    return [scope for scope in ApiScope.values if scope in wanted]


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@dataclass(frozen=True)
class IdempotencyClaim:
    record: IdempotencyRecord
    is_replay: bool


def idempotency_claim(*, api_key: ApiKey, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claim `key` for a new request, or return the stored first response to replay.

    The claim is committed before the request is processed, so a concurrent retry with the same
    key sees it and gets 409 instead of doing the work twice.
    """
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(api_key=api_key, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                api_key=api_key, key=key, request_fingerprint=fingerprint
            )
        return IdempotencyClaim(record=record, is_replay=False)
    except IntegrityError:
        record = IdempotencyRecord.objects.get(api_key=api_key, key=key)
    if record.request_fingerprint != fingerprint:
        raise ApiError(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            status_code=422,
        )
    if record.response_status is None:
        raise ApiError(
            "A request with this Idempotency-Key is still being processed; retry later.",
            code="idempotency_request_in_progress",
            status_code=409,
        )
    return IdempotencyClaim(record=record, is_replay=True)


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["response_status", "response_body"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed, so that a corrected retry may use the key again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_records_purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
