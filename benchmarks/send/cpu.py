"""Who used the CPU during a phase: the workers, the sink, PostgreSQL, Redis, the benchmark itself
(with the ceiling's client processes once reaped), and everything else on the machine.

PostgreSQL is the whole server (as in benchmarks.ingest.cpu): other users' queries on the same
server count as PostgreSQL. It cannot be narrowed to the benchmark's database by process, because
Celery's Django fixup closes the database connection after every task, so each delivery task runs
in a backend that has exited by the time the phase ends.
"""

import os
import resource
import time
from pathlib import Path

from benchmarks.ingest import cpu

PARTIES = ("workers", "sink", "postgres", "redis", "client")


def _seconds(pid: int | str) -> float:
    try:
        return cpu._process_seconds(pid)
    except OSError:
        return 0.0  # exited meanwhile


def _processes(name: str) -> list[str]:
    """The pids of the processes whose command is `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                found.append(entry.name)
        except OSError:
            pass
    return found


def snapshot(*, sink_pids: list[int], worker_pids: list[int] = ()) -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": time.time(),
        "machine_busy": cpu._machine_busy_seconds(),
        "workers": sum(_seconds(pid) for pid in worker_pids),
        "sink": sum(_seconds(pid) for pid in sink_pids),
        "postgres": cpu._postgres_seconds(),
        "redis": sum(_seconds(pid) for pid in _processes("redis-server")),
        "client": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
    }


def usage(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds per party between two snapshots, and the shares of the machine (both cores over
    the wall time between the snapshots) that the whole machine and everything else took."""
    seconds = after["wall"] - before["wall"]
    spent = {party: after[party] - before[party] for party in PARTIES}
    busy = after["machine_busy"] - before["machine_busy"]
    other = max(0.0, busy - sum(spent.values()))
    capacity = seconds * (os.cpu_count() or 1)
    result = {f"{party}_cpu_seconds": round(value, 2) for party, value in spent.items()}
    result["other_processes_cpu_seconds"] = round(other, 2)
    result["wall_seconds"] = round(seconds, 2)
    result["machine_busy_share"] = round(busy / capacity, 3)
    result["other_processes_share"] = round(other / capacity, 3)
    return result
