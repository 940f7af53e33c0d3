"""Recording delivery outcomes: each is a few statements however many messages it covers.

The send path calls these once per gateway answer (channels/services/delivery.py), so the `sent`
record is plain SQL: on PostgreSQL one statement with array parameters that updates the message
and logs the status change; elsewhere an UPDATE … FROM (VALUES …) and an INSERT. Each function
touches only rows still `queued`: a row another worker or a report has moved on is left alone.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, prefetch_related_objects

from channels.models import Message, MessageStatus, MessageStatusChange
from channels.services.status import message_status_event
from channels.services.webhooks_out import webhook_events_emit, webhooks_wanted

MESSAGES = Message._meta.db_table
STATUS_CHANGES = MessageStatusChange._meta.db_table


def messages_defer(
    messages: list[Message],
    seconds: float,
    reason: str,
    now: datetime,
    *,
    attempt: str = "",
    count_attempt: bool = True,
    rate_limited: bool = False,
) -> None:
    """Put messages of one provider back in the queue until `seconds` from now, with one UPDATE.
    An `attempt` (what the gateway answered, what happens next) goes into their history."""
    reason = reason[:500]
    updates = {
        "provider": messages[0].provider,
        "send_after": now + timedelta(seconds=seconds),
        "claimed_until": None,
        "status_reason": reason,
        "updated_at": now,
    }
    if not count_attempt:
        updates["attempts"] = F("attempts") - 1
    if rate_limited:
        updates["rate_limited"] = F("rate_limited") + 1
    ids = [m.pk for m in messages]
    if not attempt:
        Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).update(**updates)
        return
    with transaction.atomic():
        still_queued = list(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, status=MessageStatus.QUEUED)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=still_queued).update(**updates)
        MessageStatusChange.objects.bulk_create(
            MessageStatusChange(
                message_id=pk,
                status=MessageStatus.QUEUED,
                reason=attempt[:500],
                source=f"send:{messages[0].provider}",
                occurred_at=now,
            )
            for pk in still_queued
        )


def messages_release(messages: list[Message]) -> None:
    """Give back the claims (and the attempts counted) of messages no gateway was asked to send."""
    if messages:
        Message.objects.filter(
            pk__in=[m.pk for m in messages],
            status=MessageStatus.QUEUED,
            claimed_until__isnull=False,
        ).update(claimed_until=None, attempts=F("attempts") - 1)


def messages_mark_sent(messages: list[Message], provider: str, sent_at: datetime) -> None:
    """Record a batch's sends through `provider`: only rows still queued become sent, each with
    a status change. A row that is no longer queued (its claim expired and another worker took
    it) is left alone and reported nowhere.

    Django's bulk_update (a CASE per column and row) and bulk_create cost more CPU than sending
    the SMS itself, so this is plain SQL: on PostgreSQL one statement with three array
    parameters, elsewhere an UPDATE … FROM (VALUES …) and an INSERT.
    """
    if not messages:
        return
    emit = webhooks_wanted("message.status")
    postgresql = connection.vendor == "postgresql"
    # On PostgreSQL the record is one statement, atomic by itself: without webhooks to emit in
    # the same transaction, it commits in one round trip (called once per message).
    with contextlib.nullcontext() if postgresql and not emit else transaction.atomic():
        with connection.cursor() as cursor:
            if postgresql:
                updated = _mark_sent_postgresql(cursor, messages, provider, sent_at)
            else:
                updated = _mark_sent_portable(cursor, messages, provider, sent_at)
        sent = [m for m in messages if m.pk in updated]
        for message in sent:
            message.status, message.status_reason, message.sent_at = MessageStatus.SENT, "", sent_at
        if sent and emit:
            prefetch_related_objects(sent, "customer")  # the payload names the customer
            webhook_events_emit([("message.status", message_status_event(m)) for m in sent])


def _mark_sent_postgresql(cursor, messages: list[Message], provider: str, at: datetime) -> set:
    # Arrays keep the parameters few: psycopg parses a statement with more than 50 of them
    # afresh every time, which cost as much as the statement.
    #
    # Asynchronous commit (SET LOCAL, in the same round trip): the record is visible to every
    # other session at once, so a worker killed a moment later cannot send the message again,
    # but PostgreSQL flushes it to disk within 3 × wal_writer_delay instead of before answering.
    # benchmarks/send/window.py, run alternately: the window's median 2.0–2.3 ms (p99 6 ms)
    # asynchronous, 3.2–3.9 ms (p99 11.5 ms) waiting for the flush; the same backend CPU. Only
    # a crash of PostgreSQL itself within that fraction of a second loses the record; the
    # message is then sent again as a killed worker's would be (before per-message records,
    # such a crash lost the whole chunk's).
    cursor.execute(
        f"""
        SET LOCAL synchronous_commit TO off;
        WITH sent AS (
            UPDATE {MESSAGES} AS m SET status = %(sent)s, status_reason = '', provider = %(provider)s,
                provider_message_id = v.provider_message_id, parts = COALESCE(v.parts, m.parts),
                sent_at = %(at)s, claimed_until = NULL, send_after = NULL, updated_at = %(at)s
            FROM unnest(%(ids)s::bigint[], %(provider_ids)s::text[], %(parts)s::integer[])
                AS v(id, provider_message_id, parts)
            WHERE m.id = v.id AND m.status = %(queued)s
            RETURNING m.id
        )
        INSERT INTO {STATUS_CHANGES} (message_id, status, reason, source, occurred_at)
        SELECT id, %(sent)s, '', %(source)s, %(at)s FROM sent
        RETURNING message_id
        """,
        {
            "sent": MessageStatus.SENT,
            "queued": MessageStatus.QUEUED,
            "provider": provider,
            "source": f"send:{provider}",
            "at": at,
            "ids": [m.pk for m in messages],
            "provider_ids": [m.provider_message_id for m in messages],
            "parts": [m.parts for m in messages],
        },
    )
    cursor.nextset()  # past the SET's empty result
    return {row[0] for row in cursor.fetchall()}


def _mark_sent_portable(cursor, messages: list[Message], provider: str, at: datetime) -> set:
    values = ", ".join(["(%s, %s, %s)"] * len(messages))
    params: list = [MessageStatus.SENT, provider, at, at]
    for m in messages:
        params += [m.pk, m.provider_message_id, m.parts]
    params.append(MessageStatus.QUEUED)
    cursor.execute(
        f"UPDATE {MESSAGES} AS m SET status = %s, status_reason = '', provider = %s, "
        "provider_message_id = v.column2, parts = COALESCE(CAST(v.column3 AS integer), m.parts), "
        "sent_at = %s, claimed_until = NULL, send_after = NULL, updated_at = %s "
        f"FROM (VALUES {values}) AS v WHERE m.id = v.column1 AND m.status = %s RETURNING id",
        params,
    )
    updated = {row[0] for row in cursor.fetchall()}
    if updated:
        rows = ", ".join(["(%s, %s, '', %s, %s)"] * len(updated))
        params = []
        for message_id in sorted(updated):
            params += [message_id, MessageStatus.SENT, f"send:{provider}", at]
        cursor.execute(
            f"INSERT INTO {STATUS_CHANGES} (message_id, status, reason, source, occurred_at) "
            f"VALUES {rows}",
            params,
        )
    return updated


def messages_finish(messages: list[Message], status: str, reason: str, now: datetime) -> None:
    """Fail, suppress or leave unconfirmed messages of one provider that are still queued,
    logging each change: a few statements however many there are."""
    reason = reason[:500]
    provider = messages[0].provider
    with transaction.atomic():
        still_queued = set(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=[m.pk for m in messages], status=MessageStatus.QUEUED)
            .values_list("pk", flat=True)
        )
        if not still_queued:
            return
        ended = {} if status == MessageStatus.UNCONFIRMED else {"failed_at": now}
        Message.objects.filter(pk__in=still_queued).update(
            status=status,
            status_reason=reason,
            provider=provider,
            claimed_until=None,
            updated_at=now,
            **ended,
        )
        finished = [m for m in messages if m.pk in still_queued]
        for message in finished:
            message.status, message.status_reason = status, reason
        source = f"send:{provider}" if provider else "send"
        MessageStatusChange.objects.bulk_create(
            MessageStatusChange(
                message=m, status=status, reason=reason, source=source, occurred_at=now
            )
            for m in finished
        )
        if webhooks_wanted("message.status"):
            prefetch_related_objects(finished, "customer")  # the payload names the customer
            webhook_events_emit([("message.status", message_status_event(m)) for m in finished])
