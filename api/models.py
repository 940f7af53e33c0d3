import hashlib
import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
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
        (
            "messages:send: send messages (POST /messages), conversation replies, and schedule, "
            "launch or resume broadcasts"
        ),
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


class AuditAction(models.TextChoices):
    """What a staff member did. Later releases add their own actions here."""

    CONSENT_CHANGED = "consent.changed", "consent changed"
    MESSAGE_SENT = "message.sent", "message sent"
    NOTE_ADDED = "note.added", "note added"
    CUSTOMER_EXPORTED = "customer.exported", "customer data exported"
    CUSTOMER_ERASED = "customer.erased", "customer erased"
    CONVERSATION_CHANGED = "conversation.changed", "conversation changed"
    SEGMENT_CREATED = "segment.created", "segment created"
    SEGMENT_CHANGED = "segment.changed", "segment changed"
    SEGMENT_DELETED = "segment.deleted", "segment deleted"
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    SETTINGS_CHANGED = "settings.changed", "settings changed"
    USER_CHANGED = "user.changed", "user changed"
    SETTINGS_TEST_SEND = "settings.test_send", "test message sent"
    WEBHOOK_RETRIED = "webhook.retried", "webhook delivery retried"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit log is append-only.")

    def delete(self):
        raise TypeError("The audit log is append-only.")


class AuditEntry(models.Model):
    """One staff action: who, when, what, on which object, and the values before and after.

    Append-only: rows are only ever inserted (api/audit.py `audit_record`). The model refuses
    updates and deletes, and on PostgreSQL a trigger refuses them too.
    """

    Action = AuditAction

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # staff who acted are deactivated, never deleted
        related_name="+",
    )
    # The name at the time, as staff read it in the log.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    # The customer the action concerns, if any (customers.Customer.pk; no FK: api sits below
    # customers), so the customer page lists its own entries.
    customer_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["customer_id", "-occurred_at"], name="audit_customer"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit log is append-only.")
