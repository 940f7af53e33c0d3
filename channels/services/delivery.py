"""Delivering queued messages: claim, rate-limit, send through the provider, record the outcome.

Each delivery task gets a chunk of message ids. It claims the rows that are still queued and due
(`claimed_until` keeps other workers and the sweeper off them), groups them by provider, sends
each group through `Provider.send_many()` (one pooled connection) and records each outcome as soon
as the gateway answered it, before the next send:

- accepted → `sent`, with the gateway's id (committed at once: a worker killed after that cannot
  send it again);
- permanent error → `failed` with the gateway's reason;
- the request may have reached the gateway (read timeout, connection lost after it was written,
  SMTP session lost mid-send) → `unconfirmed`, never resent blindly; a delivery report, the
  gateway's status lookup (channels/services/unconfirmed.py) or staff settle it. Only a gateway
  that drops a resend by our reference (`Provider.dedupes_by_reference`) gets it retried;
- rate-limited (429) → retried after the larger of Retry-After and the backoff, not counted as an
  attempt (up to SEND_MAX_RATE_LIMITED such answers); the rest of the batch waits as long unsent;
- other temporary errors that certainly did not deliver (5xx, a refused connection) → retried
  after the larger of the backoff and the gateway's Retry-After, up to SEND_MAX_ATTEMPTS times
  per provider, then handed to the channel's failover provider, and `failed` when none is left;
- provider without credentials → `suppressed` ("… is not configured").

Every attempt leaves a MessageStatusChange with the gateway's answer. A worker killed mid-chunk
leaves its rows claimed; the claim expires after SEND_CLAIM_SECONDS and the sweeper sends them
again. The claim must outlast the slowest chunk (see config/settings.py): one that expired while
its sends were still going on would let the sweeper hand messages already sent to another worker.
An unexpected error releases at once the claims of the messages no gateway was asked to send.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from channels.models import Message, MessageStatus
from channels.providers import (
    Provider,
    ProviderError,
    ProviderNotConfigured,
    SendResult,
    get_provider,
    provider_chain,
)
from channels.services.delivery_records import (
    MESSAGES,
    messages_defer,
    messages_finish,
    messages_mark_sent,
    messages_release,
)
from channels.services.ratelimit import rate_limit_take

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = (10, 60, 300, 900)  # before the 2nd, 3rd, 4th, 5th attempt
SWEEP_STALE_SECONDS = 60  # a queued row untouched this long was never (or no longer) enqueued
SWEEP_BATCH = 5000
ENQUEUE_LATER_MAX_SECONDS = 120
# Message fields a send never reads (the status timestamps, bookkeeping); a claim leaves them out.
CLAIM_DEFERRED_FIELDS = (
    "conversation",
    "idempotency_key",
    "send_after",
    "claimed_until",
    "queued_at",
    "sent_at",
    "delivered_at",
    "opened_at",
    "clicked_at",
    "failed_at",
    "updated_at",
)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    unconfirmed: int = 0
    # message id → seconds to wait: retries, rate-limited sends and failovers to enqueue again
    later: dict[int, float] = field(default_factory=dict)


def messages_deliver(message_ids: list[int], *, now: datetime | None = None) -> DeliveryReport:
    """Send the given messages that are still queued and due. Safe to call twice with the same ids."""
    now = now or timezone.now()
    report = DeliveryReport()
    claimed = _claim(message_ids, now)
    by_provider: dict[str, list[Message]] = defaultdict(list)
    for message in claimed:
        name = message.provider or _first_provider(message)
        if not name:
            messages_finish(
                [message], MessageStatus.SUPPRESSED, f"no provider for {message.channel}", now
            )
            report.suppressed += 1
            continue
        message.provider = name
        by_provider[name].append(message)
    handed: set[str] = set()  # providers whose sends began
    try:
        for name, messages in by_provider.items():
            _deliver_with(name, messages, now, report, handed)
    except Exception:
        # Messages never handed to a gateway go back at once instead of waiting out their claim.
        messages_release([m for name, ms in by_provider.items() if name not in handed for m in ms])
        raise
    if report.later:
        _enqueue_later(report.later)
    return report


def _first_provider(message: Message) -> str:
    chain = provider_chain(message.channel, push_kind=message.payload.get("push_kind", "web"))
    return chain[0] if chain else ""


def _claim(message_ids: list[int], now: datetime) -> list[Message]:
    """Lock and claim the given messages that are queued, due and not claimed by someone else,
    counting an attempt for each. Rows another worker holds are skipped, not waited for."""
    claimed_until = now + timedelta(seconds=settings.SEND_CLAIM_SECONDS)
    if connection.vendor == "postgresql":
        return _claim_postgresql(message_ids, now, claimed_until)
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .defer(*CLAIM_DEFERRED_FIELDS)
            .filter(pk__in=message_ids, status=MessageStatus.QUEUED)
            .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("pk")
        )
        if messages:
            Message.objects.filter(pk__in=[m.pk for m in messages]).update(
                claimed_until=claimed_until, attempts=F("attempts") + 1
            )
    for message in messages:
        message.attempts += 1
    return messages


def _claim_postgresql(message_ids: list[int], now: datetime, claimed_until: datetime):
    # One statement with the ids as one array parameter: the ORM's version (a SELECT … FOR UPDATE
    # and an UPDATE, each with an IN list psycopg parses afresh above 50 parameters) cost a tenth
    # of a worker's CPU.
    columns = ", ".join(f"m.{column}" for column in _claim_columns())
    return list(
        Message.objects.raw(
            f"""
            WITH claimed AS (
                UPDATE {MESSAGES} AS m
                SET claimed_until = %(claimed_until)s, attempts = m.attempts + 1
                WHERE m.id IN (
                    SELECT id FROM {MESSAGES}
                    WHERE id = ANY(%(ids)s::bigint[]) AND status = %(queued)s
                        AND (send_after IS NULL OR send_after <= %(now)s)
                        AND (claimed_until IS NULL OR claimed_until < %(now)s)
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING {columns}
            )
            SELECT * FROM claimed ORDER BY id
            """,
            {
                "ids": list(message_ids),
                "queued": MessageStatus.QUEUED,
                "now": now,
                "claimed_until": claimed_until,
            },
        )
    )


@functools.cache
def _claim_columns() -> list[str]:
    # Sending needs none of the deferred fields; loading them was a tenth of a worker's CPU.
    return [
        field.column
        for field in Message._meta.concrete_fields
        if field.name not in CLAIM_DEFERRED_FIELDS
    ]


def _deliver_with(
    name: str, messages: list[Message], now: datetime, report: DeliveryReport, handed: set[str]
) -> None:
    try:
        provider = get_provider(name)
    except ProviderNotConfigured as exc:
        messages_finish(messages, MessageStatus.SUPPRESSED, str(exc), now)
        report.suppressed += len(messages)
        return
    granted, wait = rate_limit_take(name, len(messages))
    held = messages[granted:]
    if held:
        # Not an attempt: the provider was never called.
        messages_defer(held, wait, "rate limit", now, count_attempt=False)
        report.later.update(dict.fromkeys((m.pk for m in held), wait))
    unsent = {m.pk: m for m in messages[:granted]}
    if not unsent:
        return
    handed.add(name)
    outcomes = provider.send_many(list(unsent.values()))
    try:
        for outcome in outcomes:
            message = unsent.pop(outcome.message_id)
            # A caller stepping through time (tests, catch-up runs) passes a later `now`.
            at = max(now, timezone.now())
            if outcome.result is not None:
                _record_sent(message, name, outcome.result, at)
                report.sent += 1
                continue
            assert outcome.error is not None
            _handle_error(message, provider, outcome.error, at, report)
            if outcome.error.rate_limited and unsent and message.pk in report.later:
                # The gateway said "not now": the rest of the batch would hear the same.
                wait = report.later[message.pk]
                reason = f"{name} rate limited the batch: held back unsent"
                messages_defer(list(unsent.values()), wait, reason, at, count_attempt=False)
                report.later.update(dict.fromkeys(unsent, wait))
                unsent.clear()
                break
    except ProviderError as exc:  # the whole batch failed the same way (e.g. a token refresh)
        at = max(now, timezone.now())
        for message in list(unsent.values()):
            _handle_error(message, provider, exc, at, report)
    except Exception:
        # A bug: sends go one at a time, in order, so only the first message not yet answered
        # can have gone out; it keeps its claim, the rest go back at once.
        messages_release(list(unsent.values())[1:])
        raise
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()  # a generator left early closes its connection now


def _record_sent(message: Message, name: str, result: SendResult, at: datetime) -> None:
    # Bounded like the column: a gateway's odd id must not fail the record.
    message.provider_message_id = result.provider_message_id[:255]
    if result.parts is not None:
        message.parts = result.parts
    messages_mark_sent([message], name, at)


def _handle_error(
    message: Message,
    provider: Provider,
    error: ProviderError,
    now: datetime,
    report: DeliveryReport,
) -> None:
    name = provider.name
    if error.permanent:
        messages_finish([message], MessageStatus.FAILED, f"{name}: {error.reason}", now)
        report.failed += 1
        return
    if error.uncertain and not provider.dedupes_by_reference:
        reason = f"{name}: {error.reason} (it may have reached the gateway, so it is not resent)"
        messages_finish([message], MessageStatus.UNCONFIRMED, reason, now)
        report.unconfirmed += 1
        return
    chain = provider_chain(message.channel, push_kind=message.payload.get("push_kind", "web"))
    position = chain.index(name) if name in chain else len(chain) - 1
    retry_after = f", Retry-After {error.retry_after:g} s" if error.retry_after is not None else ""
    if error.rate_limited and message.rate_limited < settings.SEND_MAX_RATE_LIMITED:
        # "Not now" is not a failure: the attempt is given back, only the wait grows with the
        # real failures. SEND_MAX_RATE_LIMITED bounds how long a gateway can keep us waiting.
        message.attempts -= 1
        delay = _retry_delay(message, position, error)
        attempt = f"{name}: {error.reason}{retry_after}; not counted as an attempt"
        messages_defer(
            [message],
            delay,
            f"retrying after {name}: {error.reason}",
            now,
            attempt=f"{attempt}; retrying in {delay:g} s",
            count_attempt=False,
            rate_limited=True,
        )
        report.later[message.pk] = delay
        return
    attempt = f"attempt {message.attempts} via {name}: {error.reason}{retry_after}"
    # Attempts are counted over the message's life; each provider gets SEND_MAX_ATTEMPTS of them.
    if message.attempts < settings.SEND_MAX_ATTEMPTS * (position + 1):
        delay = _retry_delay(message, position, error)
        messages_defer(
            [message],
            delay,
            f"retrying after {name}: {error.reason}",
            now,
            attempt=f"{attempt}; retrying in {delay:g} s",
            rate_limited=error.rate_limited,
        )
        report.later[message.pk] = delay
    elif position + 1 < len(chain):
        failover = chain[position + 1]
        message.provider = failover
        messages_defer(
            [message],
            0,
            f"failover from {name} to {failover}: {error.reason}",
            now,
            attempt=f"{attempt}; failover to {failover}",
            rate_limited=error.rate_limited,
        )
        report.later[message.pk] = 0
    else:
        reason = f"{name}: {error.reason} (gave up after {message.attempts} attempts)"
        messages_finish([message], MessageStatus.FAILED, reason, now)
        report.failed += 1


def _retry_delay(message: Message, position: int, error: ProviderError) -> float:
    """The larger of the backoff for the attempts made through this provider and Retry-After."""
    tries_here = max(1, message.attempts - settings.SEND_MAX_ATTEMPTS * position)
    backoff = BACKOFF_SECONDS[min(tries_here - 1, len(BACKOFF_SECONDS) - 1)]
    return max(backoff, error.retry_after or 0)


def _enqueue_later(later: dict[int, float]) -> None:
    """Enqueue the messages to send again with a countdown, unless their wait is long.

    A worker keeps a task with a countdown in memory, unacknowledged, until it is due; waits longer
    than ENQUEUE_LATER_MAX_SECONDS (a long backoff, a deep rate-limit backlog) are left to the
    sweeper, which enqueues rows whose `send_after` has passed every 30 s.
    """
    from channels.services.messages import messages_enqueue

    by_delay: dict[float, list[int]] = defaultdict(list)
    for message_id, seconds in later.items():
        if seconds > ENQUEUE_LATER_MAX_SECONDS:
            continue
        # Rounded up: a task that arrives before the message's send_after would find it not due.
        by_delay[math.ceil(seconds * 10) / 10].append(message_id)
    for seconds, ids in by_delay.items():
        messages_enqueue(ids, countdown=seconds or None)


def messages_sweep(*, now: datetime | None = None) -> int:
    """Enqueue queued messages that are due and not held by a worker, but were not touched for a
    while: lost in a broker outage, left by a killed worker, or released from quiet hours.
    """
    from channels.services.messages import messages_enqueue

    now = now or timezone.now()
    ids = list(
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(
            Q(send_after__isnull=False)
            | Q(updated_at__lt=now - timedelta(seconds=SWEEP_STALE_SECONDS))
        )
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if ids:
        # Touch them so the next sweep, a minute later, does not enqueue them a second time.
        Message.objects.filter(pk__in=ids).update(updated_at=now)
        messages_enqueue(ids)
    return len(ids)
