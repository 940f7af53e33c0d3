"""`message_send`: the one way anything in Kaskad sends a message (API, campaigns, journeys,
agents, auto-replies).

The message row is committed first, then its id is enqueued on the `send` queue. If the broker is
down or the worker dies, the row is still `queued` and the sweeper (`messages_sweep`) enqueues it
again; the delivery claim (see delivery.py) makes sure two workers never send it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.publishing import task_publish
from channels.models import Message, MessageCategory, MessageStatus, MessageStatusChange
from channels.services.policy import send_decision
from channels.sms_encoding import sms_size
from channels.sms_optout import sms_with_optout
from channels.tracking.services import message_tracking_apply, message_unsubscribe_link_apply
from customers.models import Channel, Customer

logger = logging.getLogger(__name__)

# Channels whose links become signed click-tracking links (payload {"track": false} opts out).
TRACKED_CHANNELS = frozenset({"email", "sms", "telegram", "viber", "whatsapp"})
SEND_CHUNK_SIZE = 100  # message ids per delivery task
SEND_QUEUE = "send"  # its own queue, so a broadcast never waits behind segment refreshes


def message_send(
    *,
    customer: Customer,
    channel: str,
    category: str,
    source: str,
    body: str = "",
    subject: str = "",
    html: str = "",
    payload: dict | None = None,
    source_ref: str = "",
    idempotency_key: str | None = None,
    request_hash: str = "",
    conversation=None,
    address: str | None = None,
    now: datetime | None = None,
) -> Message:
    """Check the send is allowed, store the message, and queue it for delivery after commit.

    A refused send is stored as `suppressed` with the reason. A send inside quiet hours is stored
    as `queued` with `send_after`, and the sweeper releases it. An idempotency key already used
    returns the message stored the first time, and nothing is sent again.
    """
    payload = payload or {}
    if idempotency_key:
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    now = now or timezone.now()
    try:
        with transaction.atomic():
            if category == MessageCategory.MARKETING:
                # Serialises a customer's marketing sends so two workers cannot both pass the cap.
                Customer.objects.select_for_update().filter(pk=customer.pk).first()
            decision = send_decision(
                customer=customer,
                channel=channel,
                category=category,
                source=source,
                payload=payload,
                address=address,
                now=now,
            )
            if decision.push_kind:
                payload = {**payload, "push_kind": decision.push_kind}
            if channel == Channel.SMS and category == MessageCategory.MARKETING:
                # The stored body, and so its parts and cost, is exactly what the customer gets.
                body = sms_with_optout(body, customer.locale)
            message = Message.objects.create(
                customer=customer,
                channel=channel,
                address=decision.address,
                subject=subject,
                body=body,
                html=html,
                payload=payload,
                category=category,
                source=source,
                source_ref=source_ref,
                conversation=conversation,
                idempotency_key=idempotency_key or None,
                request_hash=request_hash,
                parts=sms_size(body).parts if channel == Channel.SMS else None,
                status=MessageStatus.SUPPRESSED if decision.refusal else MessageStatus.QUEUED,
                status_reason=decision.refusal,
                failed_at=now if decision.refusal else None,
                send_after=decision.send_after,
                queued_at=now,
                updated_at=now,
            )
            if not decision.refusal and not (
                channel in TRACKED_CHANNELS and payload.get("track", True)
            ):
                message_unsubscribe_link_apply(message)
            if not decision.refusal and channel in TRACKED_CHANNELS and payload.get("track", True):
                # Click links carry the message id, so links are rewritten once the row exists.
                message_tracking_apply(message)
                parts = sms_size(message.body).parts if channel == Channel.SMS else None
                if parts != message.parts:  # a link became a short link: the length changed
                    message.parts = parts
                    message.save(update_fields=["parts"])
            if decision.refusal:
                MessageStatusChange.objects.create(
                    message=message,
                    status=MessageStatus.SUPPRESSED,
                    reason=decision.refusal,
                    source="policy",
                    occurred_at=now,
                )
            elif decision.send_after is None:
                transaction.on_commit(lambda: messages_enqueue([message.pk]))
    except IntegrityError:
        # Another request stored the same idempotency key first; answer with its message.
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return message


def messages_enqueue(message_ids: list[int], *, countdown: float | None = None) -> None:
    """Put message ids on the `send` queue in chunks. Safe to repeat: delivery claims each row."""
    from channels.tasks import deliver_messages

    for start in range(0, len(message_ids), SEND_CHUNK_SIZE):
        chunk = message_ids[start : start + SEND_CHUNK_SIZE]
        if not task_publish(deliver_messages, chunk, countdown=countdown, queue=SEND_QUEUE):
            return  # the broker is down: the rows stay queued and messages_sweep sends them
