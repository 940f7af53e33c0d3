"""The Celery worker that works a broadcast's chunks, and the peak memory of every process.

One `celery -A config worker -Q broadcast,default --pool prefork --concurrency N` (a main process
and N pool processes, N = 2 by default: one per core). Nothing consumes the `send` queue: the
messages are "queued" once their rows are stored and their ids are on that Redis list; delivering
them is what `benchmarks.send` measures.
"""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.ingest.database import BASE_DIR
from benchmarks.processes import (
    WORKER_STARTUP_TIMEOUT_SECONDS,
    celery_worker_start,
    celery_worker_wait,
    stop,
)
from benchmarks.send.delivery import Workers

QUEUES = "broadcast,default"


@contextmanager
def celery_workers(
    env: dict[str, str],
    *,
    count: int,
    concurrency: int,
    log_prefix: Path,
    queues: str = QUEUES,
    name: str = "broadcast",
) -> Iterator[Workers]:
    """`count` prefork workers on `queues` (benchmarks.journeys uses them too), ready when
    entered, stopped when left."""
    processes, logs = [], []
    try:
        for number in range(1, count + 1):
            log_path = log_prefix.with_name(f"{log_prefix.name}-{number}.log")
            options = ["--pool", "prefork", "--concurrency", str(concurrency)]
            options += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            processes.append(
                celery_worker_start(
                    env,
                    queue=queues,
                    name=f"bench-{name}-{number}",
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


@contextmanager
def profiled_worker(
    env: dict[str, str],
    *,
    log_path: Path,
    profile_path: Path,
    queues: str = QUEUES,
    name: str = "broadcast",
    stop_timeout: float = 120,
) -> Iterator[Workers]:
    """One worker with the solo pool (the chunks run in its main process) under cProfile, which
    writes `profile_path` when the worker shuts down. Slower than the measured run (one process,
    the profiler's overhead): it shows where a chunk's time goes, not how fast it is."""
    command = [
        sys.executable,
        *("-m", "cProfile", "-o", str(profile_path)),
        str(Path(sys.executable).parent / "celery"),
        *("-A", "config", "worker", "-Q", queues, "--loglevel", "info"),
        *("-n", f"bench-{name}-profile@%h", "--pool", "solo"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT_SECONDS
        celery_worker_wait(process, log_path, deadline=deadline)
        yield Workers([process])
    finally:
        stop(process, timeout=stop_timeout)


def profile_summary(profile_path: Path, count: int = 30) -> list[dict]:
    """The functions with the most time of their own, and their cumulative time."""
    stats = pstats.Stats(str(profile_path))
    rows = []
    for (filename, line, name), (_calls, ncalls, own, cumulative, _callers) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(filename).name}:{line} {name}",
                "calls": ncalls,
                "own_seconds": round(own, 2),
                "cumulative_seconds": round(cumulative, 2),
            }
        )
    rows.sort(key=lambda row: row["own_seconds"], reverse=True)
    return rows[:count]


def own_peak_reset() -> bool:
    """Reset this process's VmHWM (Linux ≥ 4.0: writing 5 to clear_refs), so the next reading is
    the peak of what follows. False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False
