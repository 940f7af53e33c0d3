"""What the benchmarks need of the processes they start: Celery workers, peak memory, and a clean
stop."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.ingest.database import BASE_DIR

WORKER_STARTUP_TIMEOUT_SECONDS = 90


def celery_worker_start(
    env: dict[str, str], *, queue: str, name: str, log_path: Path, options: list[str]
) -> subprocess.Popen:
    """`celery -A config worker -Q <queue>` with `options`, its output in `log_path`."""
    command = [
        str(Path(sys.executable).parent / "celery"),
        *("-A", "config", "worker", "-Q", queue, "--loglevel", "info", "-n", f"{name}@%h"),
        *options,
    ]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **env}, stdout=log, stderr=log
        )


def celery_worker_wait(process: subprocess.Popen, log_path: Path, *, deadline: float) -> None:
    """Wait until the worker logs that it is ready (by `deadline`, a time.monotonic() value)."""
    while b" ready." not in log_path.read_bytes():
        if process.poll() is not None:
            raise RuntimeError(f"a Celery worker exited; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"a Celery worker did not start; see {log_path}")
        time.sleep(0.2)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def stop(process: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM, so the process shuts down its children; SIGKILL if it takes longer than `timeout`."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
