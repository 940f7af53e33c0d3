"""Event-to-membership latency through a real Celery worker on Redis.

One event at a time goes through `event_ingest_batch` in this process; on commit it queues
`refresh_segments_for_customers` on Redis, a separate `celery worker` process re-evaluates the
customer, and this process polls for the SegmentMembership row.
"""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import psycopg

from benchmarks.processes import (
    WORKER_STARTUP_TIMEOUT_SECONDS,
    celery_worker_start,
    celery_worker_wait,
    peak_rss_mib,
    stop,
)

MEMBERSHIP_TIMEOUT_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.002
WARM_UP_EVENTS = 10  # not counted: the worker's first tasks import modules and connect


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *(int(pid) for pid in children.read_text().split())]

    def peak_rss_mib(self) -> dict[str, float]:
        """VmHWM of the main process and of each pool process."""
        peaks = {}
        for number, pid in enumerate(self.pids()):
            peaks["main" if number == 0 else f"child {number}"] = round(peak_rss_mib(pid), 1)
        return peaks


@contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int, log_path: Path) -> Iterator[Worker]:
    process = celery_worker_start(
        env,
        queue="default",
        name="bench",
        log_path=log_path,
        options=["--concurrency", str(concurrency)],
    )
    try:
        deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT_SECONDS
        celery_worker_wait(process, log_path, deadline=deadline)
        yield Worker(process, log_path)
    finally:
        stop(process, timeout=60)


def candidates(url: str, segment_id: int, count: int) -> list[tuple[int, str]]:
    """Customers outside the segment with no counted order in the last 7 days: an add_to_cart
    event puts each of them in (ids in a fixed pseudo-random order)."""
    with psycopg.connect(url) as connection:
        return connection.execute(
            """
            SELECT c.id, c.external_id FROM customers_customer c
            WHERE c.erased_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM customers_segmentmembership m
                              WHERE m.segment_id = %s AND m.customer_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM customers_order o
                              WHERE o.customer_id = c.id
                                AND o.status NOT IN ('cancelled', 'refunded')
                                AND o.placed_at >= now() - interval '8 days')
            ORDER BY hashint4(c.id::int), c.id
            LIMIT %s
            """,
            [segment_id, count],
        ).fetchall()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def measure(url: str, segment_id: int, events: int) -> dict:
    """Send `events` single add_to_cart events one after another; time each until membership."""
    from customers.api.schemas import EventIn
    from customers.services.events import event_ingest_batch

    targets = candidates(url, segment_id, events + WARM_UP_EVENTS)
    if len(targets) < events + WARM_UP_EVENTS:
        raise RuntimeError(f"only {len(targets)} customers can enter the segment")
    call_ms, after_commit_ms, end_to_end_ms, timeouts = [], [], [], 0
    with psycopg.connect(url, autocommit=True) as poller:
        probe = poller.cursor()
        for number, (customer_id, external_id) in enumerate(targets):
            item = EventIn(
                event_id=f"bench-latency-{number}",
                customer_external_id=external_id,
                name="add_to_cart",
                properties={"category": "Electronics / Video cards"},
                occurred_at=datetime.now(UTC),
            )
            started = perf_counter()
            event_ingest_batch(items=[item], source="bench")
            committed = perf_counter()
            deadline = committed + MEMBERSHIP_TIMEOUT_SECONDS
            while True:
                found = probe.execute(
                    "SELECT 1 FROM customers_segmentmembership "
                    "WHERE segment_id = %s AND customer_id = %s",
                    [segment_id, customer_id],
                ).fetchone()
                now = perf_counter()
                if found or now > deadline:
                    break
                time.sleep(POLL_INTERVAL_SECONDS)
            if number < WARM_UP_EVENTS:
                continue
            if not found:
                timeouts += 1
                continue
            call_ms.append((committed - started) * 1000)
            after_commit_ms.append((now - committed) * 1000)
            end_to_end_ms.append((now - started) * 1000)

    def summary(values: list[float]) -> dict:
        if not values:
            return {}
        return {
            "p50_ms": round(percentile(values, 0.50), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "max_ms": round(max(values), 1),
            "mean_ms": round(sum(values) / len(values), 1),
        }

    return {
        "events": events,
        "warm_up_events": WARM_UP_EVENTS,
        "concurrency": 1,
        "measured": len(after_commit_ms),
        "timeouts": timeouts,
        "ingest_call": summary(call_ms),
        "commit_to_membership": summary(after_commit_ms),
        "call_start_to_membership": summary(end_to_end_ms),
    }
