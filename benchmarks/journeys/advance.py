"""(b) A million runs whose waits fall due in the same minute: every one advanced and its email
stored `queued` (its id on the `send` queue), through real Celery workers and the tick.

Setup, untimed: every run of the welcome journey is put where a minute's wait leaves it: waiting
at the `pause` step (a 60 s duration wait), `wake_at` spread over the last minute (one
`UPDATE`), `step_entered_at` 60 s before it; then `VACUUM ANALYZE` of the enrollments, which
autovacuum would have done in the minute of waiting. The workers are started and ready first.

The clock starts when the tick thread publishes its first `journeys_tick` (then one every 5 s, as
beat does). Each tick counts the due runs and publishes advance tasks (4 when more than a batch
is due); each advance task claims 500 due runs at a time (`FOR UPDATE SKIP LOCKED`), walks them
(wait over → send: the policy, the render, the message rows, the enqueue → the week's wait) and
commits, for up to 20 s. Once a second the benchmark reads how many runs left `pause` from the
engine's step counts (one row, no scan); when that says all, it counts the due runs once
(through the partial index) and stops if none is left; a run's message commits with its new step, so by then every
message exists. The newest message's `queued_at` is reported next to it.
"""

from __future__ import annotations

import os
import time

import psycopg

from benchmarks.journeys.data import PAUSE_SECONDS

POLL_SECONDS = 1.0
PROGRESS_SECONDS = 10


def make_due(url: str, journey_id: int) -> dict:
    """Every run of the journey waiting at `pause`, due within the last minute."""
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        rows = connection.execute(
            """
            UPDATE campaigns_enrollment e
            SET state = 'waiting', step = 'pause', wake_at = d.wake_at,
                step_entered_at = d.wake_at - make_interval(secs => %(pause)s)
            FROM (SELECT id, now() - random() * interval '59 seconds' AS wake_at
                  FROM campaigns_enrollment WHERE journey_id = %(journey)s) d
            WHERE e.id = d.id
            """,
            {"journey": journey_id, "pause": PAUSE_SECONDS},
        ).rowcount
        connection.commit()
        seconds = time.perf_counter() - started
        connection.autocommit = True
        started = time.perf_counter()
        connection.execute("VACUUM ANALYZE campaigns_enrollment")
        vacuum = time.perf_counter() - started
    return {"runs": rows, "update_seconds": round(seconds, 2), "vacuum_seconds": round(vacuum, 2)}


def _passed(connection: psycopg.Connection, journey_id: int) -> int:
    """Runs that left `pause` so far: the engine's own step count (one row, no scan)."""
    row = connection.execute(
        "SELECT coalesce(sum(s.count), 0) FROM campaigns_stepstat s "
        "JOIN campaigns_journey j ON j.live_version_id = s.version_id "
        "WHERE j.id = %s AND s.step = 'pause' AND s.key LIKE 'passed:%%'",
        [journey_id],
    ).fetchone()
    return int(row[0])


def _due(connection: psycopg.Connection, journey_id: int, moment) -> int:
    return connection.execute(
        "SELECT count(*) FROM campaigns_enrollment WHERE state IN ('active', 'waiting') "
        "AND wake_at <= %s AND journey_id = %s",
        [moment, journey_id],
    ).fetchone()[0]


def advance_and_wait(url: str, journey_id: int, ticker_factory, *, stall_seconds: float) -> dict:
    """Start the tick; wait until no run of the journey is due (or nothing moved for
    `stall_seconds`)."""
    from datetime import UTC, datetime

    with psycopg.connect(url, autocommit=True) as connection:
        moment = datetime.now(UTC)
        total = _due(connection, journey_id, moment)
        started = time.time()
        last_change, last_due, last_progress, stalled = started, total, started, False
        timeline = []
        with ticker_factory() as ticker:
            while True:
                time.sleep(POLL_SECONDS)
                due = total - _passed(connection, journey_id)
                if due <= 0:  # the counts say all: make sure with one real count
                    due = _due(connection, journey_id, moment)
                now = time.time()
                timeline.append((round(now - started, 1), due))
                if due != last_due:
                    last_change, last_due = now, due
                if due == 0:
                    break
                if now - last_change > stall_seconds:
                    stalled = True
                    print(f"  STALLED: {due:,} runs due for {stall_seconds:.0f} s", flush=True)
                    break
                if now - last_progress >= PROGRESS_SECONDS:
                    last_progress = now
                    done = total - due
                    print(
                        f"  {now - started:6.0f} s: {done:>9,} advanced, {due:>9,} due "
                        f"({done / (now - started):,.0f}/s); load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            finished = time.time()
            ticks = len(ticker.ticks)
        first, last, messages, queued = connection.execute(
            "SELECT min(queued_at), max(queued_at), count(*), "
            "count(*) FILTER (WHERE status = 'queued') FROM kaskad_channels_message "
            "WHERE source_ref LIKE %s",
            [f"journey:{journey_id}:%"],
        ).fetchone()
    seconds = finished - started
    last_after = last.timestamp() - started if last else None
    return {
        "runs_due": total,
        "seconds": round(seconds, 2),
        "first_message_after_seconds": round(first.timestamp() - started, 2) if first else None,
        "last_message_after_seconds": round(last_after, 2) if last_after else None,
        "messages": messages,
        "messages_queued": queued,
        "messages_per_second": round(messages / seconds, 1) if seconds else 0.0,
        "ticks": ticks,
        "stalled": stalled,
        "due_at_end": last_due,
        "due_timeline": timeline[:: max(1, len(timeline) // 60)],
    }


def verify(url: str, journey_id: int, runs: int) -> dict:
    """Every run at `rest` (waiting a week) with one queued email; returns the queued ids too."""
    with psycopg.connect(url) as connection:
        states = dict(
            connection.execute(
                "SELECT step || ' ' || state, count(*) FROM campaigns_enrollment "
                "WHERE journey_id = %s GROUP BY 1",
                [journey_id],
            ).fetchall()
        )
        messages, customers, queued, email = connection.execute(
            "SELECT count(*), count(DISTINCT customer_id), count(*) FILTER (WHERE status = "
            "'queued'), count(*) FILTER (WHERE channel = 'email') FROM kaskad_channels_message "
            "WHERE source_ref LIKE %s",
            [f"journey:{journey_id}:%"],
        ).fetchone()
        sent_logs = connection.execute(
            "SELECT count(*) FROM campaigns_enrollmentlog WHERE journey_id = %s AND outcome = 'sent'",
            [journey_id],
        ).fetchone()[0]
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM kaskad_channels_message WHERE source_ref LIKE %s "
                "AND status = 'queued'",
                [f"journey:{journey_id}:%"],
            )
        ]
    problems = []
    if states.get("rest waiting", 0) != runs:
        problems.append(f"runs by step and state: {states} (want {runs:,} 'rest waiting')")
    if not (messages == customers == queued == email == sent_logs == runs):
        problems.append(
            f"{messages:,} messages to {customers:,} customers, {queued:,} queued, {email:,} "
            f"email, {sent_logs:,} 'sent' log rows (want {runs:,} each)"
        )
    return {
        "problems": problems,
        "runs_by_step_state": states,
        "messages": messages,
        "distinct_customers": customers,
        "queued": queued,
        "sent_log_rows": sent_logs,
        "queued_ids": ids,
    }
