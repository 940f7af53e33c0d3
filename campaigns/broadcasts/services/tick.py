"""What the beat does for broadcasts every minute: launch the scheduled ones that are due, end
A/B tests whose time is up, finish broadcasts with no one left to send, republish stalled chunks
and refresh results while they can still change."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from api.audit import audit_record
from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientGroup,
    RecipientState,
)
from campaigns.broadcasts.services.abtest import winner_pick
from campaigns.broadcasts.services.launch import (
    STALLED_AFTER,
    broadcast_chunks_publish,
    broadcast_launch,
)
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.setup import BroadcastError

logger = logging.getLogger(__name__)

LIVE = (BroadcastStatus.SENDING, BroadcastStatus.TESTING, BroadcastStatus.PAUSED)
FINISHED_REFRESH = timedelta(hours=1)


def broadcast_winner_choose(broadcast: Broadcast, *, now: datetime | None = None) -> Broadcast:
    """End the test: pick the winner on the metric, give it to the rest and send them."""
    now = now or timezone.now()
    stats = broadcast_stats_refresh(broadcast)
    variant_stats = [s for s in stats if not s.holdout and s.variant_id]
    for s in variant_stats:
        s.variant = next(v for v in broadcast.variants.all() if v.pk == s.variant_id)
    if not variant_stats:  # nobody in the test group (a tiny audience): A goes to everyone
        winner_id, details = broadcast.variants.order_by("key").first().pk, {"method": "none"}
    else:
        winner_id, details = winner_pick(variant_stats, broadcast.ab_metric, seed=broadcast.seed)
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if locked.status != BroadcastStatus.TESTING:
            return locked
        BroadcastRecipient.objects.filter(
            broadcast=locked, group=RecipientGroup.MAIN, variant__isnull=True
        ).update(variant_id=winner_id)
        locked.winner_id = winner_id
        locked.winner_stats = details
        locked.winner_at = now
        locked.status = BroadcastStatus.SENDING
        locked.updated_at = now
        locked.save()
        audit_record(
            actor=None,
            action="broadcast.winner",
            object_type="broadcast",
            object_id=locked.pk,
            object_repr=locked.name,
            after={"winner": winner_id, **{k: v for k, v in details.items() if k != "values"}},
        )
        pk = locked.pk
        transaction.on_commit(lambda: broadcast_chunks_publish(Broadcast.objects.get(pk=pk)))
    return locked


def _pending(broadcast: Broadcast) -> bool:
    return BroadcastRecipient.objects.filter(
        broadcast=broadcast, state=RecipientState.PENDING
    ).exists()


def broadcasts_tick(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    done = {"launched": 0, "winners": 0, "finished": 0, "republished": 0, "refreshed": 0}
    for broadcast in Broadcast.objects.filter(status=BroadcastStatus.SCHEDULED, send_at__lte=now):
        try:
            broadcast_launch(broadcast, now=now)
            done["launched"] += 1
        except BroadcastError as exc:
            logger.warning("scheduled broadcast %s not launched: %s", broadcast.pk, exc.message)
    for broadcast in Broadcast.objects.filter(status=BroadcastStatus.TESTING):
        if (
            broadcast.launched_at
            and broadcast.launched_at + timedelta(hours=broadcast.test_hours) <= now
        ):
            broadcast_winner_choose(broadcast, now=now)
            done["winners"] += 1
    for broadcast in Broadcast.objects.filter(
        status__in=(BroadcastStatus.SENDING, BroadcastStatus.TESTING)
    ):
        if broadcast.status == BroadcastStatus.SENDING and not _pending(broadcast):
            Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.SENDING).update(
                status=BroadcastStatus.SENT, finished_at=now, updated_at=now
            )
            done["finished"] += 1
        elif broadcast.updated_at < now - STALLED_AFTER and _pending(broadcast):
            # No chunk has committed for a while: tasks were lost (broker, worker). Chunks only
            # take pending recipients, so publishing them again never sends twice.
            done["republished"] += broadcast_chunks_publish(broadcast)
            Broadcast.objects.filter(pk=broadcast.pk).update(updated_at=now)
    for broadcast in _stats_due(now):
        broadcast_stats_refresh(broadcast)
        done["refreshed"] += 1
    return done


def _stats_due(now: datetime):
    """Live broadcasts every tick; finished ones hourly while conversions can still arrive."""
    for broadcast in (
        Broadcast.objects.filter(launched_at__isnull=False)
        .exclude(status=BroadcastStatus.DRAFT)
        .order_by("-launched_at")[:200]
    ):
        if broadcast.status in LIVE:
            yield broadcast
            continue
        ended = broadcast.finished_at or broadcast.launched_at
        if ended + timedelta(days=broadcast.conversion_days + 1) < now:
            continue
        last = broadcast.stats_refreshed_at
        if last is None or last < ended or last + FINISHED_REFRESH <= now:
            yield broadcast
