"""Moving a message through its statuses: forward only, whatever order the news arrives in.

A status replaces the current one only if it ranks higher (models.STATUS_RANK) and the message is
not final. A late report of a lower status (the delivery receipt after the click) still records
its time, so delivered_at is known, but the status stays. A repeated report changes nothing.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from channels.listeners import message_status_changed
from channels.models import (
    FINAL_STATUSES,
    STATUS_RANK,
    Message,
    MessageStatus,
    MessageStatusChange,
)
from channels.services.webhooks_out import webhook_event_emit

# The timestamp column each status fills; failed, bounced and suppressed share failed_at.
STATUS_TIME_FIELD = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.OPENED: "opened_at",
    MessageStatus.CLICKED: "clicked_at",
    MessageStatus.FAILED: "failed_at",
    MessageStatus.BOUNCED: "failed_at",
    MessageStatus.SUPPRESSED: "failed_at",
}


def message_reference(message: Message) -> str:
    """Our reference for a message, for gateways that echo one in their delivery reports."""
    return str(message.pk)


def status_moves_forward(current: str, new: str) -> bool:
    return current not in FINAL_STATUSES and STATUS_RANK[new] > STATUS_RANK[current]


def message_status_event(message: Message) -> dict:
    """The `message.status` payload sent to CRM webhooks."""
    return {
        "message_id": message.pk,
        "customer": message.customer.external_id,
        "channel": message.channel,
        "provider": message.provider,
        "status": message.status,
        "reason": message.status_reason,
        "provider_message_id": message.provider_message_id,
        "source": message.source,
        "source_ref": message.source_ref,
    }


@transaction.atomic
def message_status_apply(
    *,
    message_id: int,
    status: str,
    occurred_at: datetime | None = None,
    reason: str = "",
    source: str = "",
) -> bool:
    """Record that a message reached `status`. Returns True if its status changed."""
    occurred_at = occurred_at or timezone.now()
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return False
    time_field = STATUS_TIME_FIELD.get(status)
    fields = []
    if time_field and getattr(message, time_field) is None:
        setattr(message, time_field, occurred_at)
        fields.append(time_field)
    moved = status_moves_forward(message.status, status)
    if moved:
        message.status = status
        message.status_reason = reason[:500]
        message.claimed_until = None
        fields += ["status", "status_reason", "claimed_until"]
    if not fields:
        return False
    message.updated_at = timezone.now()
    message.save(update_fields=[*fields, "updated_at"])
    if moved:
        MessageStatusChange.objects.create(
            message=message,
            status=status,
            reason=reason[:500],
            source=source,
            occurred_at=occurred_at,
        )
        webhook_event_emit(event_type="message.status", data=message_status_event(message))
        message_status_changed(message)
    return moved


def message_status_apply_by_provider_id(
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    occurred_at: datetime | None = None,
    reason: str = "",
    reference: str = "",
) -> bool:
    """Apply a gateway's delivery callback. Unknown ids are ignored (False): not ours, or erased.

    `reference` is our own reference the gateway echoes (`message_reference()`, e.g. in Twilio's
    status-callback URL): it settles an `unconfirmed` message, whose send never told us the
    gateway's id, and records that id."""
    message_id = (
        Message.objects.filter(provider=provider, provider_message_id=provider_message_id)
        .values_list("pk", flat=True)
        .first()
    )
    # A message id, and one a bigint holds: anything else is not a reference of ours.
    ours = reference.isascii() and reference.isdigit() and len(reference) <= 18
    if message_id is None and ours and provider_message_id:
        # Only a message still without a gateway id: a reference never overrides a known one.
        claimed = Message.objects.filter(
            pk=int(reference), provider=provider, provider_message_id=""
        ).update(provider_message_id=provider_message_id[:255])
        message_id = int(reference) if claimed else None
    if message_id is None:
        return False
    return message_status_apply(
        message_id=message_id,
        status=status,
        occurred_at=occurred_at,
        reason=reason,
        source=f"webhook:{provider}",
    )
