"""A real gunicorn serving Kaskad on loopback, and what its processes used."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.ingest.database import BASE_DIR
from benchmarks.processes import peak_rss_mib, stop

STARTUP_TIMEOUT_SECONDS = 60


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def peak_rss_mib(self) -> dict[str, float]:
        """Peak resident memory (VmHWM) of the master and of each worker, in MiB."""
        peaks = {"master": peak_rss_mib(self.process.pid)}
        for number, pid in enumerate(self.worker_pids(), start=1):
            peaks[f"worker {number}"] = peak_rss_mib(pid)
        return peaks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int, worker_class: str, threads: int, log_path: Path
) -> Iterator[Server]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--timeout=300",
        "--log-level=warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=log, stderr=log
        )
    server = Server(process=process, port=port, log_path=log_path)
    try:
        _wait_until_serving(server, workers)
        yield server
    finally:
        stop(process, timeout=30)


def _wait_until_serving(server: Server, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {server.log_path}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                pass
            if len(server.worker_pids()) == workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start within {STARTUP_TIMEOUT_SECONDS}s")
