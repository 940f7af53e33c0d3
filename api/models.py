import hashlib
import secrets

from django.db import models
from django.utils import timezone

API_KEY_PREFIX_LENGTH = 8


def hash_api_key(raw_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is safe here; a slow password hash would
    # only add latency to every request.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_raw_api_key() -> tuple[str, str]:
    """Return (prefix, full key). The prefix is stored in clear so a key can be found and shown."""
    prefix = secrets.token_hex(API_KEY_PREFIX_LENGTH // 2)
    return prefix, f"kk_{prefix}_{secrets.token_urlsafe(32)}"


class ApiScope(models.TextChoices):
    """What a key may do. Each request needs exactly one (see api.permissions.HasApiKeyScope)."""

    READ = "read", "read: every GET"
    WRITE = "write", "write: customers, consents, events, orders, segments, conversations"
    MESSAGES_SEND = (
        "messages:send",
        ("messages:send: send messages (POST /messages) and conversation replies"),
    )
    GDPR_ERASE = "gdpr:erase", "gdpr:erase: erase a customer (DELETE /customers/{id})"


# What a CRM sync key gets unless told otherwise, and what every key that could write before
# scopes were split was given. Erasing customers must be granted explicitly.
DEFAULT_API_SCOPES = (ApiScope.READ, ApiScope.WRITE, ApiScope.MESSAGES_SEND)


def default_api_scopes() -> list[str]:
    return [str(scope) for scope in DEFAULT_API_SCOPES]


class ApiKey(models.Model):
    Scope = ApiScope

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=API_KEY_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    # A list of ApiScope values, in ApiScope's order.
    scopes = models.JSONField(default=default_api_scopes)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (kk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    # DRF treats request.user as "authenticated" through this attribute.
    is_authenticated = True


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an Idempotency-Key, replayed for 24 hours."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    # Null while the first request is still being processed.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="idempotency_key_unique_per_api_key"
            )
        ]

    def __str__(self) -> str:
        return self.key
