"""What the benchmarks need of the processes they start: peak memory, and a clean stop."""

import signal
import subprocess
from pathlib import Path


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
