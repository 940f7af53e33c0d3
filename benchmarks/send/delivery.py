"""Kaskad's own run: real Celery workers on the `send` queue deliver a campaign's queued messages.

The workers are started and ready before the clock starts. The clock starts when the messages are
stamped `queued_at` and handed to `messages_enqueue` (chunks of 100 ids, one task each), and
stops at the last message's `sent_at`. Meanwhile the benchmark counts the queued rows once a
second; it gives up when nothing has moved for `stall_seconds`.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from benchmarks.processes import (
    WORKER_STARTUP_TIMEOUT_SECONDS,
    celery_worker_start,
    celery_worker_wait,
    peak_rss_mib,
    stop,
)

# The clock stops at the last message's sent_at, so polling only has to notice the end; it
# counts the queued rows (through the partial index on them) once a second, which costs the
# database little. Counting every status four times a second scanned the whole table and
# took a noticeable share of the CPU being measured.
POLL_SECONDS = 1.0
PROGRESS_SECONDS = 10


@dataclass
class Workers:
    processes: list[subprocess.Popen]

    def pids(self) -> dict[str, int]:
        """Each worker's main process, and its pool processes (prefork) by name."""
        named = {}
        for number, process in enumerate(self.processes, start=1):
            named[f"worker {number}"] = process.pid
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            for child_number, pid in enumerate(children.read_text().split(), start=1):
                named[f"worker {number} child {child_number}"] = int(pid)
        return named

    def peak_rss_mib(self) -> dict[str, float]:
        return {name: round(peak_rss_mib(pid), 1) for name, pid in self.pids().items()}


@contextmanager
def celery_workers(
    env: dict[str, str], *, count: int, pool: str, concurrency: int, log_prefix: Path
) -> Iterator[Workers]:
    processes, logs = [], []
    try:
        for number in range(1, count + 1):
            log_path = log_prefix.with_name(f"{log_prefix.name}-{number}.log")
            options = ["--pool", pool, "--concurrency", str(concurrency)]
            options += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            processes.append(
                celery_worker_start(
                    env,
                    queue="send",
                    name=f"bench-send-{number}",
                    log_path=log_path,
                    options=options,
                )
            )
            logs.append(log_path)
        deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT_SECONDS
        for process, log_path in zip(processes, logs, strict=True):
            celery_worker_wait(process, log_path, deadline=deadline)
        yield Workers(processes)
    finally:
        for process in processes:
            stop(process, timeout=60)


def status_counts(connection: psycopg.Connection, channel: str) -> dict[str, int]:
    return dict(
        connection.execute(
            "SELECT status, count(*) FROM kaskad_channels_message WHERE channel = %s GROUP BY status",
            [channel],
        ).fetchall()
    )


def queued_count(connection: psycopg.Connection, channel: str) -> int:
    return connection.execute(
        "SELECT count(*) FROM kaskad_channels_message WHERE status = 'queued' AND channel = %s",
        [channel],
    ).fetchone()[0]


def deliver(url: str, channel: str, ids: list[int], *, stall_seconds: float) -> dict:
    """Stamp, enqueue and wait until none of `ids` is queued any more; returns the timings."""
    from benchmarks.send import data
    from channels.services.messages import messages_enqueue

    total = len(ids)
    with psycopg.connect(url, autocommit=True) as poller:
        started = time.time()
        data.queued_at_set(url, channel, datetime.fromtimestamp(started, UTC))
        stamped = time.time()
        messages_enqueue(ids)
        enqueued = time.time()
        print(
            f"  stamped queued_at in {stamped - started:.1f} s, enqueued {total:,} ids in "
            f"{enqueued - stamped:.1f} s",
            flush=True,
        )
        last_change, last_done, last_progress, stalled = time.time(), -1, time.time(), False
        while True:
            queued = queued_count(poller, channel)
            done = total - queued
            now = time.time()
            if done != last_done:
                last_change, last_done = now, done
            if done >= total:
                break
            if now - last_change > stall_seconds:
                stalled = True
                # Lost tasks (another process emptying the broker's Redis database, say) leave
                # rows queued; production's beat sweeper would re-enqueue them, none runs here.
                print(
                    f"  STALLED: nothing moved for {stall_seconds:.0f} s: "
                    f"{status_counts(poller, channel)}; "
                    "were tasks lost from the broker?",
                    flush=True,
                )
                break
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                print(
                    f"  {now - started:6.0f} s: {done:>9,} done, {queued:>9,} queued, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            time.sleep(POLL_SECONDS)
        finished_polling = time.time()
        row = poller.execute(
            """
            SELECT count(*), min(sent_at), max(sent_at),
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                       ORDER BY extract(epoch FROM sent_at - queued_at)),
                   max(extract(epoch FROM sent_at - queued_at))
            FROM kaskad_channels_message WHERE channel = %s AND status = 'sent'
            """,
            [channel],
        ).fetchone()
    sent, first_sent, last_sent, percentiles, slowest = row
    end = last_sent.timestamp() if last_sent else finished_polling
    seconds = end - started
    return {
        "messages": total,
        "sent": sent,
        "stalled": stalled,
        "seconds": round(seconds, 2),
        "messages_per_second": round(sent / seconds, 1) if seconds > 0 else 0.0,
        "stamp_seconds": round(stamped - started, 2),
        "enqueue_seconds": round(enqueued - stamped, 2),
        "first_sent_after_seconds": round(first_sent.timestamp() - started, 2)
        if first_sent
        else None,
        "queued_to_sent_seconds": {
            "p50": round(percentiles[0], 2) if percentiles else None,
            "p95": round(percentiles[1], 2) if percentiles else None,
            "p99": round(percentiles[2], 2) if percentiles else None,
            "max": round(float(slowest), 2) if slowest is not None else None,
        },
    }


def verify(url: str, channel: str, expected: int, sink_stats: dict) -> dict:
    """Every message sent exactly once: in the database and as the sink saw it."""
    with psycopg.connect(url) as connection:
        counts = status_counts(connection, channel)
        ids_row = connection.execute(
            """
            SELECT count(*) FILTER (WHERE provider_message_id = ''),
                   count(*) - count(DISTINCT provider_message_id),
                   count(*) FILTER (WHERE attempts > 1),
                   count(DISTINCT provider)
            FROM kaskad_channels_message WHERE channel = %s AND status = 'sent'
            """,
            [channel],
        ).fetchone()
        sent_changes = connection.execute(
            """
            SELECT count(*), count(DISTINCT c.message_id)
            FROM kaskad_channels_messagestatuschange c JOIN kaskad_channels_message m ON m.id = c.message_id
            WHERE m.channel = %s AND c.status = 'sent'
            """,
            [channel],
        ).fetchone()
        reasons = connection.execute(
            "SELECT status, status_reason, count(*) FROM kaskad_channels_message "
            "WHERE channel = %s AND status <> 'sent' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5",
            [channel],
        ).fetchall()
    without_id, duplicate_ids, retried, providers = ids_row
    problems = []
    if counts.get("sent", 0) != expected:
        problems.append(f"{counts.get('sent', 0):,} of {expected:,} sent: {counts}")
    if without_id:
        problems.append(f"{without_id:,} sent without a provider message id")
    if duplicate_ids:
        problems.append(f"{duplicate_ids:,} duplicate provider message ids")
    if sent_changes[0] != sent_changes[1] or sent_changes[0] != counts.get("sent", 0):
        problems.append(f"'sent' status changes {sent_changes[0]:,} for {sent_changes[1]:,} rows")
    if sink_stats["accepted"] != expected:
        problems.append(f"the sink accepted {sink_stats['accepted']:,}, expected {expected:,}")
    if sink_stats["duplicates"]:
        problems.append(f"the sink got {sink_stats['duplicates']:,} messages twice")
    if sink_stats["refused"]:
        problems.append(f"the sink refused {sink_stats['refused']:,}: {sink_stats['refusals']}")
    return {
        "ok": not problems,
        "problems": problems,
        "statuses": counts,
        "retried_messages": retried,
        "providers": providers,
        "not_sent_reasons": [list(r) for r in reasons],
        "sink": sink_stats,
    }
