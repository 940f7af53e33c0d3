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

import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks.broadcast import workers as broadcast_workers
from benchmarks.send.delivery import Workers

QUEUES = "journeys,default"


def celery_workers(
    env: dict[str, str], *, count: int, concurrency: int, log_prefix: Path
) -> AbstractContextManager[Workers]:
    return broadcast_workers.celery_workers(
        env,
        count=count,
        concurrency=concurrency,
        log_prefix=log_prefix,
        queues=QUEUES,
        name="journeys",
    )


def profiled_worker(
    env: dict[str, str], *, log_path: Path, profile_path: Path
) -> AbstractContextManager[Workers]:
    """One worker with the solo pool under cProfile (written when it shuts down): where the
    engine's time goes, not how fast it is."""
    return broadcast_workers.profiled_worker(
        env,
        log_path=log_path,
        profile_path=profile_path,
        queues=QUEUES,
        name="journeys",
        stop_timeout=300,
    )


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
