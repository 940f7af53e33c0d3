"""Kaskad's run: `broadcast_launch` in this process, the chunks in the Celery worker, timed until
no recipient is pending.

The worker is started and ready before the clock starts. The clock starts just before
`broadcast_launch` (which snapshots the audience into recipient rows and publishes the chunk
tasks on the `broadcast` queue) and stops when the broadcast's live counts say every recipient
was processed: each worker renders its chunk, reserves the promo codes, stores the message rows
(status `queued`) and publishes their ids on the `send` queue. The benchmark polls those counts
once a second (no scan), which is the resolution of the end; the newest message's `queued_at` is
reported next to it, and the recipients still `pending` are counted once at the end (it must be
none).
"""

from __future__ import annotations

import os
import time

import psycopg

POLL_SECONDS = 1.0
PROGRESS_SECONDS = 10


def _progress(broadcast_id: int) -> dict:
    """The live counts the chunks bump as they commit (no scan of the recipients)."""
    from campaigns.broadcasts.models import Broadcast
    from campaigns.broadcasts.services.launch import broadcast_progress

    return broadcast_progress(Broadcast.objects.get(pk=broadcast_id))


def _pending(connection: psycopg.Connection, broadcast_id: int) -> int:
    from campaigns.broadcasts.models import BroadcastRecipient

    return connection.execute(
        f"SELECT count(*) FROM {BroadcastRecipient._meta.db_table} "
        "WHERE broadcast_id = %s AND state = 'pending'",
        [broadcast_id],
    ).fetchone()[0]


def launch_and_wait(broadcast, url: str, *, actor, stall_seconds: float) -> dict:
    from campaigns.broadcasts.services.launch import broadcast_launch

    started = time.time()
    broadcast_launch(broadcast, actor=actor)
    launched = time.time()
    print(f"  broadcast_launch returned after {launched - started:.1f} s", flush=True)
    last_change, last_pending, last_progress, stalled = time.time(), None, time.time(), False
    while True:
        progress = _progress(broadcast.pk)
        pending = progress["target"] - progress["processed"]
        now = time.time()
        if pending != last_pending:
            last_change, last_pending = now, pending
        if pending <= 0:
            break
        if now - last_change > stall_seconds:
            stalled = True
            print(
                f"  STALLED: {pending:,} recipients pending for {stall_seconds:.0f} s", flush=True
            )
            break
        if now - last_progress >= PROGRESS_SECONDS:
            last_progress = now
            print(
                f"  {now - started:6.0f} s: {progress['processed']:>9,} processed, "
                f"{progress['queued']:>9,} queued, {progress['suppressed']:,} suppressed; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        time.sleep(POLL_SECONDS)
    finished = time.time()
    with psycopg.connect(url) as connection:
        pending = _pending(connection, broadcast.pk)
        first, last, rows = connection.execute(
            "SELECT min(queued_at), max(queued_at), count(*) FROM kaskad_channels_message "
            "WHERE source_ref LIKE %s",
            [f"broadcast:{broadcast.pk}:%"],
        ).fetchone()
    seconds = finished - started
    return {
        "seconds": round(seconds, 2),
        "launch_call_seconds": round(launched - started, 2),
        "first_message_after_seconds": round(first.timestamp() - started, 2) if first else None,
        "last_message_after_seconds": round(last.timestamp() - started, 2) if last else None,
        "messages": rows,
        "messages_per_second": round(rows / seconds, 1) if seconds else 0.0,
        "stalled": stalled,
        "recipients_pending_at_end": pending,
        "progress": _progress(broadcast.pk),
    }
