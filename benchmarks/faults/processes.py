"""The processes the fault suite starts, stops and breaks: its own redis-server, Celery workers on
the `send` queue, one worker on `default` (which runs the beat jobs, the sweeper among them) and
celery beat. Every wait here is bounded; `Processes.stop_all()` stops whatever is still running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from benchmarks.ingest.database import BASE_DIR
from benchmarks.processes import (
    WORKER_STARTUP_TIMEOUT_SECONDS,
    celery_worker_start,
    celery_worker_wait,
    stop,
)
from benchmarks.send.sinks import free_port

REDIS_STARTUP_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 30
BEAT_STARTUP_TIMEOUT_SECONDS = 60
CELERY = str(Path(sys.executable).parent / "celery")


class RedisServer:
    """A redis-server of the suite's own on a free loopback port, with no persistence: stopping
    it loses every queued task, the worst a broker outage can do."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(self.log_path.parent)),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + REDIS_STARTUP_TIMEOUT_SECONDS
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.log_path}")
            time.sleep(0.1)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process, timeout=STOP_TIMEOUT_SECONDS)
        self.process = None

    def flush(self) -> None:
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        client.flushall()
        client.close()


@dataclass
class Processes:
    """Everything started for the run, so that one `stop_all()` (in a `finally`) ends it."""

    env: dict[str, str]
    log_dir: Path
    redis: RedisServer
    send_workers: list[subprocess.Popen] = field(default_factory=list)
    others: list[subprocess.Popen] = field(default_factory=list)  # beat, the default worker

    def start_beat_and_default_worker(self) -> None:
        log_path = self.log_dir / "faults-default-worker.log"
        worker = celery_worker_start(
            self.env,
            queue="default",
            name="faults-default",
            log_path=log_path,
            options=["--pool", "threads", "--concurrency", "2", "--without-gossip"],
        )
        self.others.append(worker)
        beat_log = self.log_dir / "faults-beat.log"
        with beat_log.open("wb") as log:
            beat = subprocess.Popen(
                [CELERY, "-A", "config", "beat", "--loglevel", "info", "--max-interval", "5"],
                cwd=BASE_DIR,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
            )
        self.others.append(beat)
        celery_worker_wait(
            worker, log_path, deadline=time.monotonic() + WORKER_STARTUP_TIMEOUT_SECONDS
        )
        _wait_for_line(beat, beat_log, b"beat: Starting", BEAT_STARTUP_TIMEOUT_SECONDS)

    def start_send_workers(self, *, count: int, concurrency: int, label: str) -> None:
        logs = []
        for number in range(1, count + 1):
            log_path = self.log_dir / f"faults-{label}-worker-{number}.log"
            self.send_workers.append(
                celery_worker_start(
                    self.env,
                    queue="send",
                    name=f"faults-send-{number}",
                    log_path=log_path,
                    options=[
                        *("--pool", "threads", "--concurrency", str(concurrency)),
                        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                    ],
                )
            )
            logs.append(log_path)
        deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT_SECONDS
        for process, log_path in zip(self.send_workers, logs, strict=True):
            celery_worker_wait(process, log_path, deadline=deadline)

    def kill_send_worker(self, index: int) -> int:
        """SIGKILL one send worker; returns how many threads its process ran at that moment."""
        process = self.send_workers[index]
        threads = os_threads(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
        return threads

    def stop_send_workers(self) -> None:
        for process in self.send_workers:
            if process.poll() is None:
                stop(process, timeout=STOP_TIMEOUT_SECONDS)
        self.send_workers = []

    def stop_all(self) -> None:
        self.stop_send_workers()
        for process in self.others:
            if process.poll() is None:
                stop(process, timeout=STOP_TIMEOUT_SECONDS)
        self.others = []
        self.redis.stop()


def os_threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise RuntimeError(f"no thread count for process {pid}")


def _wait_for_line(process: subprocess.Popen, log_path: Path, line: bytes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while line not in log_path.read_bytes():
        if process.poll() is not None:
            raise RuntimeError(f"a process exited; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"a process did not start in {timeout:.0f} s; see {log_path}")
        time.sleep(0.2)
