"""The Celery workers that run the journey engine, and the beat-like tick.

`celery -A config worker -Q journeys,default --pool prefork --concurrency K` (`--workers` of them):
the `journeys` queue carries the tick, the advance tasks and the outcome signals; `default` the
segment refreshes an event asks for. Nothing consumes the `send` queue: a journey's message is
"queued" once its row is stored and its id is on that Redis list (delivery is `benchmarks.send`).

The tick: production runs `journeys_tick` from celery beat every few seconds. Here a thread of
the benchmark publishes the same task on the same queue every `--tick-seconds` (5), which is what
beat does, without a second scheduler process and its database table to set up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
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

QUEUES = "journeys,default"


@contextmanager
def celery_workers(
    env: dict[str, str], *, count: int, concurrency: int, log_prefix: Path
) -> Iterator[Workers]:
    processes, logs = [], []
    try:
        for number in range(1, count + 1):
            log_path = log_prefix.with_name(f"{log_prefix.name}-{number}.log")
            options = ["--pool", "prefork", "--concurrency", str(concurrency)]
            options += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            processes.append(
                celery_worker_start(
                    env,
                    queue=QUEUES,
                    name=f"bench-journeys-{number}",
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
    env: dict[str, str], *, log_path: Path, profile_path: Path
) -> Iterator[Workers]:
    """One worker with the solo pool under cProfile (written when it shuts down): where the
    engine's time goes, not how fast it is."""
    command = [
        sys.executable,
        *("-m", "cProfile", "-o", str(profile_path)),
        str(Path(sys.executable).parent / "celery"),
        *("-A", "config", "worker", "-Q", QUEUES, "--loglevel", "info"),
        *("-n", "bench-journeys-profile@%h", "--pool", "solo"),
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
        stop(process, timeout=300)


class Ticker:
    """Publishes `journeys_tick` every `seconds`, as beat does, until stopped."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ticks: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="journeys-tick", daemon=True)

    def _loop(self) -> None:
        from api.publishing import task_publish
        from campaigns.journeys.tasks import journeys_tick

        while not self._stop.is_set():
            task_publish(journeys_tick)
            self.ticks.append(time.time())
            self._stop.wait(self.seconds)

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
