"""Messages whose send may or may not have reached the gateway (`unconfirmed`), and how they settle.

Delivery marks a message `unconfirmed` when its request may have arrived but no answer came back
(channels/services/delivery.py). Resending it blindly could text the customer twice, so it is
settled by what the gateway knows:

- a delivery report carrying our reference (Twilio's status-callback URL, WhatsApp's
  `biz_opaque_callback_data`) settles it at once (channels/services/status.py);
- `messages_settle_unconfirmed`, a periodic job, asks the gateways that have a status lookup
  (`Provider.status_lookup`): found → its status and id are recorded; certainly never received →
  it is sent again;
- otherwise staff decide: admin → Messages, status "Unconfirmed", action "Resend"
  (`message_resend`), which is logged in the message's history.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from channels.models import Message, MessageStatus, MessageStatusChange
from channels.providers import Provider, ProviderError, ProviderNotConfigured, get_provider
from channels.services.status import message_status_apply

logger = logging.getLogger(__name__)

# Delivery reports usually arrive within seconds; the gateway is asked only after this long.
SETTLE_AFTER_SECONDS = 120
SETTLE_BATCH = 200  # lookups per provider per run: one HTTP request each


def message_resend(*, message_id: int, actor: str, now: datetime | None = None) -> bool:
    """Queue an `unconfirmed` message again, deliberately: staff judged it never arrived.

    The one move backwards a status may make, so it is logged with who asked. Returns False
    (and changes nothing) when the message is no longer unconfirmed, e.g. a report settled it.
    """
    from channels.services.messages import messages_enqueue

    now = now or timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=message_id, status=MessageStatus.UNCONFIRMED)
            .first()
        )
        if message is None:
            return False
        reason = f"resent by {actor}; before: {message.status_reason}"[:500]
        _requeue(message, reason, f"resend:{actor}"[:50], now)
        transaction.on_commit(lambda: messages_enqueue([message_id]))
    return True


def messages_settle_unconfirmed(*, now: datetime | None = None) -> dict[str, int]:
    """Ask each gateway with a status lookup about its unconfirmed messages; record what it says.

    Returns counts: settled (the gateway had it), resent (it certainly had not), unknown.
    """
    from channels.services.messages import messages_enqueue

    now = now or timezone.now()
    counts = {"settled": 0, "resent": 0, "unknown": 0}
    names = (
        Message.objects.filter(status=MessageStatus.UNCONFIRMED)
        .values_list("provider", flat=True)
        .distinct()
    )
    resent: list[int] = []
    for name in names:
        provider = _provider_with_lookup(name)
        if provider is None:
            continue
        messages = Message.objects.filter(
            status=MessageStatus.UNCONFIRMED,
            provider=name,
            updated_at__lt=now - timedelta(seconds=SETTLE_AFTER_SECONDS),
        ).order_by("updated_at", "pk")[:SETTLE_BATCH]
        for message in messages:
            try:
                found = provider.status_lookup(message)
            except ProviderError as exc:  # the lookup itself failed: try again next run
                logger.warning("%s: status lookup of message %s failed: %s", name, message.pk, exc)
                found = None
            if found is None:
                counts["unknown"] += 1
            elif found.status is None:
                reason = f"{name} has no such message ({found.reason}); sending again"
                with transaction.atomic():
                    requeued = _requeue(message, reason[:500], f"lookup:{name}", now)
                if requeued:
                    resent.append(message.pk)
                    counts["resent"] += 1
            else:
                _settle(message, found.status, found.provider_message_id, found.reason, name)
                counts["settled"] += 1
    if resent:
        messages_enqueue(resent)
    return counts


def _provider_with_lookup(name: str) -> Provider | None:
    try:
        provider = get_provider(name)
    except (ProviderNotConfigured, KeyError):
        return None
    has_lookup = type(provider).status_lookup is not Provider.status_lookup
    return provider if has_lookup else None


def _settle(message: Message, status: str, provider_message_id: str, reason: str, name: str):
    with transaction.atomic():
        if provider_message_id:
            Message.objects.filter(pk=message.pk, provider_message_id="").update(
                provider_message_id=provider_message_id[:255]
            )
        message_status_apply(
            message_id=message.pk, status=status, reason=reason, source=f"lookup:{name}"
        )


def _requeue(message: Message, reason: str, source: str, now: datetime) -> bool:
    """Back to `queued`, if still unconfirmed (a report may have settled it meanwhile)."""
    requeued = Message.objects.filter(pk=message.pk, status=MessageStatus.UNCONFIRMED).update(
        status=MessageStatus.QUEUED,
        status_reason=reason,
        send_after=None,
        claimed_until=None,
        updated_at=now,
    )
    if requeued:
        MessageStatusChange.objects.create(
            message=message,
            status=MessageStatus.QUEUED,
            reason=reason,
            source=source,
            occurred_at=now,
        )
    return bool(requeued)
