"""Who used the machine's CPU during a timed phase: the server, PostgreSQL, the client, the rest.

The machine is shared, so a slow phase may just mean a neighbour was busy; the share of CPU that
other processes took says whether a run is to be trusted. PostgreSQL is counted as a whole (all
its processes, plus the backends that exited, which the postmaster accounts for), so another
user's queries on the same server count as PostgreSQL here, not as "other".
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    machine_busy: float
    server: float
    postgres: float
    client: float


def _process_seconds(pid: int | str, *, with_children: bool = False) -> float:
    # The fields after the command name, which is in parentheses and may hold spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children already reaped
    return ticks / CLOCK_TICKS


def _postgres_seconds() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += _process_seconds(entry.name, with_children=True)
        except OSError:
            pass  # the process has exited meanwhile
    return total


def _machine_busy_seconds() -> float:
    # cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def snapshot(server_pids: list[int]) -> Snapshot:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Snapshot(
        machine_busy=_machine_busy_seconds(),
        server=sum(_process_seconds(pid) for pid in server_pids),
        postgres=_postgres_seconds(),
        client=usage.ru_utime + usage.ru_stime,
    )


def usage(before: Snapshot, after: Snapshot, seconds: float) -> dict[str, float]:
    """CPU seconds per party between two snapshots, and the share of the machine others took."""
    server = after.server - before.server
    postgres = after.postgres - before.postgres
    client = after.client - before.client
    other = max(0.0, after.machine_busy - before.machine_busy - server - postgres - client)
    return {
        "server_cpu_seconds": round(server, 2),
        "postgres_cpu_seconds": round(postgres, 2),
        "client_cpu_seconds": round(client, 2),
        "other_processes_cpu_seconds": round(other, 2),
        "other_processes_share": round(other / (seconds * (os.cpu_count() or 1)), 3),
    }
