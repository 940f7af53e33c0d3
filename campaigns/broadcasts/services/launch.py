"""Launching a broadcast and steering it: snapshot, chunks, pause, resume, cancel, progress.

Launch fixes the audience: every member of the segment at that moment becomes a
`BroadcastRecipient` with a bucket from (seed, customer id) that decides holdout, A/B test group
and variant, so the same customer always lands in the same place. The recipients to send now are
cut into chunks of CHUNK_SIZE ids, each a task on the "broadcast" queue (sending.py). Every step
is safe to repeat: a chunk only takes recipients still pending, locked, so a chunk published
twice (or by the tick after a lost task) never sends a message twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.audit import audit_record
from api.publishing import task_publish
from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    BroadcastVariant,
    RecipientGroup,
    RecipientState,
    Timing,
)
from campaigns.broadcasts.services.setup import BroadcastError, _specs_of, broadcast_validate
from channels.models import Message, MessageStatus, MessageStatusChange
from customers.models import SegmentMembership

CHUNK_SIZE = 1000
BROADCAST_QUEUE = "broadcast"
SNAPSHOT_BATCH = 50_000
STALLED_AFTER = timedelta(minutes=2)  # the tick republishes a sending broadcast's chunks after
# A paused broadcast's stored messages wait with this send_after; resume puts back the real one.
PAUSED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)


def recipient_bucket(seed: int, customer_id: int) -> tuple[int, int, int]:
    """(bucket 0–9,999, test draw 0–9,999, variant draw): stable for (seed, customer)."""
    digest = hashlib.blake2b(f"{seed}:{customer_id}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % 10_000, (value // 10_000) % 10_000, value // 100_000_000


def recipient_placement(broadcast: Broadcast, variants: list[BroadcastVariant], customer_id: int):
    """(bucket, group, variant or None) of one customer: holdout first, then the test share."""
    bucket, test_draw, variant_draw = recipient_bucket(broadcast.seed, customer_id)
    if bucket < broadcast.holdout_percent * 100:
        return bucket, RecipientGroup.HOLDOUT, None
    if broadcast.is_ab:
        if test_draw < broadcast.test_percent * 100:
            return bucket, RecipientGroup.TEST, variants[variant_draw % len(variants)]
        return bucket, RecipientGroup.MAIN, None  # gets the winner
    return bucket, RecipientGroup.MAIN, variants[0]


@transaction.atomic
def broadcast_schedule(broadcast: Broadcast, *, actor=None) -> Broadcast:
    """A draft with timing "at" waits for its time; the tick launches it then."""
    broadcast = _locked(broadcast)
    if broadcast.status != BroadcastStatus.DRAFT:
        raise BroadcastError("status", _("Only a draft can be scheduled."), "conflict")
    if broadcast.timing != Timing.AT or broadcast.send_at is None:
        raise BroadcastError("send_at", _("Choose when to send."))
    if broadcast.send_at <= timezone.now():
        raise BroadcastError("send_at", _("The time has passed; choose a later one or send now."))
    broadcast_validate(broadcast, _specs_of(broadcast))
    _move(broadcast, BroadcastStatus.SCHEDULED, "broadcast.schedule", actor)
    return broadcast


def broadcast_launch(broadcast: Broadcast, *, actor=None, now: datetime | None = None) -> Broadcast:
    """Snapshot the audience and start sending (or start the A/B test). Once only."""
    now = now or timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if broadcast.status not in (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED):
            raise BroadcastError(
                "status", _("This broadcast has already been launched."), "conflict"
            )
        broadcast_validate(broadcast, _specs_of(broadcast))
        variants = _variants_fix(broadcast)
        audience, held, tested = _snapshot(broadcast, variants)
        broadcast.status = BroadcastStatus.TESTING if broadcast.is_ab else BroadcastStatus.SENDING
        broadcast.audience_count = audience
        broadcast.holdout_count = held
        broadcast.test_count = tested
        broadcast.launched_at = now
        broadcast.updated_at = now
        broadcast.save()
        audit_record(
            actor=actor,
            action="broadcast.launch",
            object_type="broadcast",
            object_id=broadcast.pk,
            object_repr=broadcast.name,
            after={"audience": audience, "status": broadcast.status},
        )
        pk = broadcast.pk
        transaction.on_commit(lambda: broadcast_chunks_publish(Broadcast.objects.get(pk=pk)))
    return broadcast


def _variants_fix(broadcast: Broadcast) -> list[BroadcastVariant]:
    """Pin each variant to its template's current version: what every message will use. (A
    survey broadcast has no template: its one variant stays unpinned.)"""
    variants = list(broadcast.variants.select_related("template").order_by("key"))
    for variant in variants:
        template = variant.template or broadcast.template
        if template is None:
            continue
        variant.version_id = template.current_version_id
        variant.save(update_fields=["version"])
    return variants


def _snapshot(broadcast: Broadcast, variants: list[BroadcastVariant]) -> tuple[int, int, int]:
    """Write the recipients; (audience, held out, in the A/B test group)."""
    member_ids = (
        SegmentMembership.objects.filter(segment_id=broadcast.segment_id)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )
    total = held = tested = 0
    batch: list[tuple] = []
    for customer_id in member_ids.iterator(chunk_size=SNAPSHOT_BATCH):
        bucket, group, variant = recipient_placement(broadcast, variants, customer_id)
        held += group == RecipientGroup.HOLDOUT
        tested += group == RecipientGroup.TEST
        state = RecipientState.HELD if group == RecipientGroup.HOLDOUT else RecipientState.PENDING
        batch.append(
            (broadcast.pk, customer_id, bucket, group, variant.pk if variant else None, state)
        )
        if len(batch) >= SNAPSHOT_BATCH:
            total += _recipients_insert(batch)
            batch = []
    total += _recipients_insert(batch)
    return total, held, tested


def _recipients_insert(rows: list[tuple]) -> int:
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        table = BroadcastRecipient._meta.db_table
        columns = 'broadcast_id, customer_id, bucket, "group", variant_id, state, channel, reason'
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, "", ""))
        return len(rows)
    BroadcastRecipient.objects.bulk_create(
        BroadcastRecipient(broadcast_id=b, customer_id=c, bucket=k, group=g, variant_id=v, state=s)
        for b, c, k, g, v, s in rows
    )
    return len(rows)


def sendable_groups(broadcast: Broadcast) -> list[str]:
    """Which recipients go out now: the test group while testing, everyone else after."""
    if broadcast.status == BroadcastStatus.TESTING:
        return [RecipientGroup.TEST]
    if broadcast.status == BroadcastStatus.SENDING:
        return [RecipientGroup.TEST, RecipientGroup.MAIN]
    return []


def broadcast_chunks_publish(broadcast: Broadcast) -> int:
    """Publish a chunk task for every CHUNK_SIZE pending recipients that may go now."""
    from campaigns.broadcasts.tasks import broadcast_chunk_send

    groups = sendable_groups(broadcast)
    if not groups:
        return 0
    ids = list(
        BroadcastRecipient.objects.filter(
            broadcast=broadcast, state=RecipientState.PENDING, group__in=groups
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    chunks = 0
    for start in range(0, len(ids), CHUNK_SIZE):
        part = ids[start : start + CHUNK_SIZE]
        task_publish(broadcast_chunk_send, broadcast.pk, part[0], part[-1], queue=BROADCAST_QUEUE)
        chunks += 1
    return chunks


def broadcast_progress(broadcast: Broadcast) -> dict:
    """Live counts, kept by the chunks as they commit (no scan). `target` is what can be sent
    now: the audience less the holdout, or the test group while an A/B test runs."""
    target = broadcast.audience_count - broadcast.holdout_count
    if broadcast.is_ab and broadcast.winner_id is None:
        target = broadcast.test_count
    if not broadcast.launched_at:
        percent = 0.0
    elif target <= 0:
        percent = 100.0
    else:
        percent = round(min(100.0, 100 * broadcast.processed_count / target), 1)
    return {
        "status": broadcast.status,
        "audience": broadcast.audience_count,
        "held": broadcast.holdout_count,
        "test": broadcast.test_count,
        "target": max(target, 0),
        "processed": broadcast.processed_count,
        "queued": broadcast.queued_count,
        "suppressed": broadcast.suppressed_count,
        "percent": percent,
    }


def _locked(broadcast: Broadcast) -> Broadcast:
    """The broadcast as it is now, locked for this transaction (the caller's copy may be old)."""
    return Broadcast.objects.select_for_update().get(pk=broadcast.pk)


@transaction.atomic
def broadcast_pause(broadcast: Broadcast, *, actor=None) -> Broadcast:
    """Stop taking recipients, and hold the stored messages not yet sent."""
    broadcast = _locked(broadcast)
    if broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.TESTING):
        raise BroadcastError("status", _("Only a sending broadcast can be paused."), "conflict")
    _move(broadcast, BroadcastStatus.PAUSED, "broadcast.pause", actor, was=broadcast.status)
    _unsent_messages(broadcast).update(send_after=PAUSED_UNTIL)
    return broadcast


@transaction.atomic
def broadcast_resume(broadcast: Broadcast, *, actor=None) -> Broadcast:
    broadcast = _locked(broadcast)
    if broadcast.status != BroadcastStatus.PAUSED:
        raise BroadcastError("status", _("Only a paused broadcast can be resumed."), "conflict")
    status = (
        BroadcastStatus.SENDING
        if broadcast.winner_id or not broadcast.is_ab
        else BroadcastStatus.TESTING
    )
    _move(broadcast, status, "broadcast.resume", actor)
    held = _unsent_messages(broadcast).filter(send_after=PAUSED_UNTIL)
    # A local-time message goes back to its own hour; the rest go now.
    for recipient_send_after, message_ids in _held_by_time(broadcast, held):
        Message.objects.filter(pk__in=message_ids).update(send_after=recipient_send_after)
    pk = broadcast.pk
    transaction.on_commit(lambda: _resume_publish(pk))
    return broadcast


def _resume_publish(pk: int) -> None:
    from channels.services.messages import messages_enqueue

    broadcast = Broadcast.objects.get(pk=pk)
    broadcast_chunks_publish(broadcast)
    due = list(
        _unsent_messages(broadcast).filter(send_after__isnull=True).values_list("pk", flat=True)
    )
    messages_enqueue(due)


def _held_by_time(broadcast: Broadcast, held):
    held_ids = set(held.values_list("pk", flat=True))
    groups: dict[datetime | None, list[int]] = {}
    for message_id, send_after in BroadcastRecipient.objects.filter(
        broadcast=broadcast, message_id__in=held_ids
    ).values_list("message_id", "send_after"):
        if send_after is not None and send_after <= timezone.now():
            send_after = None
        groups.setdefault(send_after, []).append(message_id)
    return groups.items()


@transaction.atomic
def broadcast_cancel(broadcast: Broadcast, *, actor=None) -> Broadcast:
    """Stop for good: pending recipients are cancelled and stored messages not yet sent are
    suppressed ("broadcast cancelled"), which also releases their promo codes."""
    broadcast = _locked(broadcast)
    if broadcast.status not in (
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.SENDING,
        BroadcastStatus.TESTING,
        BroadcastStatus.PAUSED,
        BroadcastStatus.DRAFT,
    ):
        raise BroadcastError("status", _("This broadcast can no longer be cancelled."), "conflict")
    now = timezone.now()
    _move(broadcast, BroadcastStatus.CANCELLED, "broadcast.cancel", actor)
    broadcast.finished_at = now
    broadcast.save(update_fields=["finished_at"])
    BroadcastRecipient.objects.filter(broadcast=broadcast, state=RecipientState.PENDING).update(
        state=RecipientState.CANCELLED, processed_at=now
    )
    unsent = list(
        _unsent_messages(broadcast).select_for_update(skip_locked=True).values_list("pk", flat=True)
    )
    Message.objects.filter(pk__in=unsent, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SUPPRESSED,
        status_reason="broadcast cancelled",
        failed_at=now,
        send_after=None,
        updated_at=now,
    )
    MessageStatusChange.objects.bulk_create(
        MessageStatusChange(
            message_id=pk,
            status=MessageStatus.SUPPRESSED,
            reason="broadcast cancelled",
            source="broadcast",
            occurred_at=now,
        )
        for pk in unsent
    )
    return broadcast


def _unsent_messages(broadcast: Broadcast):
    """Stored messages of the broadcast still waiting to go (not claimed by a worker)."""
    message_ids = BroadcastRecipient.objects.filter(
        broadcast=broadcast, message_id__isnull=False, state=RecipientState.QUEUED
    ).values("message_id")
    now = timezone.now()
    return Message.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _move(broadcast: Broadcast, status: str, action: str, actor, was: str | None = None) -> None:
    before = was or broadcast.status
    broadcast.status = status
    broadcast.updated_at = timezone.now()
    broadcast.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        object_type="broadcast",
        object_id=broadcast.pk,
        object_repr=broadcast.name,
        before={"status": before},
        after={"status": status},
    )


def broadcast_progress_add(
    broadcast_id: int, *, processed: int, queued: int, suppressed: int
) -> None:
    Broadcast.objects.filter(pk=broadcast_id).update(
        processed_count=F("processed_count") + processed,
        queued_count=F("queued_count") + queued,
        suppressed_count=F("suppressed_count") + suppressed,
        updated_at=timezone.now(),
    )
