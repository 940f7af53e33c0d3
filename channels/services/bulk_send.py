"""`messages_send_many`: `message_send` for a batch (a broadcast chunk of about a thousand).

Same checks (`send_decisions_many` reads consent, caps and addresses once per batch), same rows,
same tracking and opt-out line, same queue. The difference is cost: on PostgreSQL the ids are
taken from the sequence first, so each message's tracked links are signed before the row exists
and every row is written once, with COPY. On SQLite the rows are inserted, then their links
rewritten, as `message_send` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from channels.models import Message, MessageStatus, MessageStatusChange
from channels.services.messages import TRACKED_CHANNELS, messages_enqueue
from channels.services.policy import SendDecision, frequency_capped, send_decisions_many
from channels.sms_encoding import sms_size
from channels.sms_optout import sms_with_optout
from channels.tracking.links import tracked_content, with_unsubscribe_link
from customers.models import Channel, Customer

COPY_FIELDS = (
    "id",
    "customer_id",
    "channel",
    "provider",
    "address",
    "subject",
    "body",
    "html",
    "payload",
    "category",
    "source",
    "source_ref",
    "status",
    "status_reason",
    "request_hash",
    "provider_message_id",
    "attempts",
    "rate_limited",
    "parts",
    "send_after",
    "queued_at",
    "failed_at",
    "updated_at",
    "idempotency_key",
)


@dataclass
class OutgoingMessage:
    customer: Customer
    channel: str
    subject: str = ""
    body: str = ""
    html: str = ""
    payload: dict = field(default_factory=dict)
    source_ref: str = ""
    not_before: datetime | None = None  # the caller's earliest time (a local-time broadcast)
    refusal: str = ""  # decided by the caller (a template value missing): stored suppressed
    # Unique per message (a journey's enrollment, step and attempt). The caller checks for keys
    # already used before it calls: one duplicate key fails the whole batch.
    idempotency_key: str | None = None


def messages_send_many(
    items: list[OutgoingMessage],
    *,
    category: str,
    source: str,
    decisions: dict[tuple[int, str], SendDecision] | None = None,
    ids: list[int] | None = None,
    customers_locked: bool = False,
    now: datetime | None = None,
) -> list[Message]:
    """Store one message per item, suppressed (with the reason) or queued, and enqueue the
    queued ones after commit. Runs in the caller's transaction. `decisions` may carry checks the
    caller already made ({(customer id, channel): decision}, e.g. to choose a channel); `ids`,
    from `message_ids_allocate`, the ids to use (PostgreSQL), one per item; `customers_locked`,
    that the caller already holds the customers' row locks in this transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        if category == "marketing" and not customers_locked and frequency_capped():
            # As in message_send: serialise a customer's marketing sends against the caps.
            customer_ids = sorted({item.customer.pk for item in items})
            list(Customer.objects.select_for_update().filter(pk__in=customer_ids).values_list("pk"))
        decisions = dict(decisions or {})
        _decide_missing(items, decisions, category, source, now)
        messages = [_message(item, decisions, category, source, now) for item in items]
        if connection.vendor == "postgresql":
            _insert_postgresql(messages, ids or message_ids_allocate(len(messages)))
        else:
            _insert_portable(messages)
        MessageStatusChange.objects.bulk_create(
            MessageStatusChange(
                message_id=m.pk,
                status=MessageStatus.SUPPRESSED,
                reason=m.status_reason,
                source="policy",
                occurred_at=now,
            )
            for m in messages
            if m.status == MessageStatus.SUPPRESSED
        )
        due = [m.pk for m in messages if m.status == MessageStatus.QUEUED and m.send_after is None]
        if due:
            transaction.on_commit(lambda: messages_enqueue(due))
    return messages


def _decide_missing(items, decisions, category, source, now) -> None:
    by_channel: dict[str, list[OutgoingMessage]] = {}
    for item in items:
        if not item.refusal and (item.customer.pk, item.channel) not in decisions:
            by_channel.setdefault(item.channel, []).append(item)
    for channel, group in by_channel.items():
        found = send_decisions_many(
            [item.customer for item in group],
            channel,
            category,
            source=source,
            payload=group[0].payload,
            now=now,
        )
        for customer_id, decision in found.items():
            decisions[(customer_id, channel)] = decision


def _message(item: OutgoingMessage, decisions, category: str, source: str, now) -> Message:
    decision = decisions.get((item.customer.pk, item.channel))
    refusal = item.refusal or (decision.refusal if decision else "")
    payload = dict(item.payload)
    body = item.body
    send_after = None
    if not refusal:
        if decision.push_kind:
            payload["push_kind"] = decision.push_kind
        if item.channel == Channel.SMS and category == "marketing":
            body = sms_with_optout(body, item.customer.locale)
        send_after = max(
            (t for t in (decision.send_after, item.not_before) if t is not None and t > now),
            default=None,
        )
    return Message(
        customer_id=item.customer.pk,
        channel=item.channel,
        address=decision.address if decision else "",
        subject=item.subject,
        body=body,
        html=item.html,
        payload=payload,
        category=category,
        source=source,
        source_ref=item.source_ref,
        status=MessageStatus.SUPPRESSED if refusal else MessageStatus.QUEUED,
        status_reason=refusal,
        failed_at=now if refusal else None,
        send_after=send_after,
        queued_at=now,
        updated_at=now,
        idempotency_key=item.idempotency_key,
    )


def _tracked(message: Message) -> bool:
    return (
        message.status == MessageStatus.QUEUED
        and message.channel in TRACKED_CHANNELS
        and message.payload.get("track", True)
    )


def _finish(message: Message) -> None:
    """Tracked links (the id is known by now) and the SMS part count of the final body."""
    if _tracked(message):
        message.body, message.html = tracked_content(message)
    elif message.status == MessageStatus.QUEUED:
        message.body = with_unsubscribe_link(message.pk, message.body)
        message.html = with_unsubscribe_link(message.pk, message.html)
    if message.channel == Channel.SMS:
        message.parts = sms_size(message.body).parts


def message_ids_allocate(count: int) -> list[int] | None:
    """`count` message ids from the sequence (PostgreSQL), so a caller can refer to messages
    before they are written (a promo code reserved for its message); None on SQLite."""
    if connection.vendor != "postgresql" or not count:
        return None
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _insert_postgresql(messages: list[Message], ids: list[int] | None) -> None:
    if not messages:
        return
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        for message, pk in zip(messages, ids, strict=True):
            message.pk = pk
            _finish(message)
        columns = ", ".join(COPY_FIELDS)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for m in messages:
                copy.write_row(
                    (
                        m.pk,
                        m.customer_id,
                        m.channel,
                        m.provider,
                        m.address,
                        m.subject,
                        m.body,
                        m.html,
                        Jsonb(m.payload),
                        m.category,
                        m.source,
                        m.source_ref,
                        m.status,
                        m.status_reason,
                        m.request_hash,
                        m.provider_message_id,
                        m.attempts,
                        m.rate_limited,
                        m.parts,
                        m.send_after,
                        m.queued_at,
                        m.failed_at,
                        m.updated_at,
                        m.idempotency_key,
                    )
                )


def _insert_portable(messages: list[Message]) -> None:
    Message.objects.bulk_create(messages, batch_size=500)
    changed = []
    for message in messages:
        before = (message.body, message.html, message.parts)
        _finish(message)
        if (message.body, message.html, message.parts) != before:
            changed.append(message)
    Message.objects.bulk_update(changed, ["body", "html", "parts"], batch_size=500)
