"""The scenarios: each sends its own campaign through real workers while one thing breaks, then
drains until no message is pending or the deadline passes.

A scenario runs in these steps:

1. the campaign's messages are made with `message_send` (queued, each id a task on the `send`
   queue; `sigkill-chunks` replaces those tasks with tasks of 100 ids);
2. the send workers start; the clock starts when they are ready;
3. every `POLL_SECONDS` the fault is given the elapsed time and the number of texts the gateway
   has taken, and breaks or mends what it owns (a worker, the broker, the gateway's mode);
4. once the fault is over, the campaign's pending rows are counted every second until there are
   none (drained), then the gateway's last delivery reports are awaited, all within a deadline;
5. the send workers stop, and each message's status is set against the gateway's record.

Beat and the `default` worker run throughout: their sweeper is what recovers rows whose tasks a
killed worker or a broker outage took with them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.faults.campaign import (
    PENDING,
    campaign_enqueue_in_chunks,
    campaign_outcome,
    campaign_send,
    status_counts,
)
from benchmarks.faults.gateway import Gateway
from benchmarks.faults.processes import Processes

POLL_SECONDS = 0.2
COUNT_SECONDS = 1.0
PROGRESS_SECONDS = 10


class Fault:
    """What a scenario breaks. `tick()` is called every poll until `finished`."""

    finished = False

    def __init__(self) -> None:
        self.notes: dict = {}

    def tick(self, elapsed: float, taken: int) -> None:
        raise NotImplementedError

    def mend(self) -> None:
        """Undo whatever is still broken (the deadline passed, or the run is being stopped)."""


class WorkerKill(Fault):
    """SIGKILL the first send worker once the gateway has taken `at` texts."""

    def __init__(self, processes: Processes, *, at: int, pool_threads: int) -> None:
        super().__init__()
        self.processes, self.at, self.pool_threads = processes, at, pool_threads

    def tick(self, elapsed: float, taken: int) -> None:
        if taken >= self.at:
            threads = self.processes.kill_send_worker(0)
            self.notes = {
                "killed_at_seconds": round(elapsed, 1),
                "taken_when_killed": taken,
                "killed_worker_pool_threads": self.pool_threads,
                "killed_worker_os_threads": threads,
            }
            print(
                f"    SIGKILL worker 1 at {elapsed:.1f} s ({taken} texts taken): its pool ran "
                f"{self.pool_threads} threads ({threads} OS threads in the process)",
                flush=True,
            )
            self.finished = True


class BrokerOutage(Fault):
    """Stop the suite's redis-server once the gateway has taken `at` texts; start it again
    (empty) `seconds` later."""

    def __init__(self, processes: Processes, *, at: int, seconds: float) -> None:
        super().__init__()
        self.processes, self.at, self.seconds = processes, at, seconds
        self.down_since: float | None = None

    def tick(self, elapsed: float, taken: int) -> None:
        if self.down_since is None and taken >= self.at:
            self.processes.redis.stop()
            self.down_since = elapsed
            self.notes = {"down_at_seconds": round(elapsed, 1), "taken_when_down": taken}
            print(f"    broker down at {elapsed:.1f} s ({taken} texts taken)", flush=True)
        elif self.down_since is not None and elapsed - self.down_since >= self.seconds:
            self.mend()
            self.notes["up_at_seconds"] = round(elapsed, 1)
            print(f"    broker up again at {elapsed:.1f} s", flush=True)

    def mend(self) -> None:
        if self.down_since is not None and not self.finished:
            self.processes.redis.start()
        self.finished = True


class GatewayFault(Fault):
    """The gateway answers in `mode` from the start for `seconds`, then normally again."""

    def __init__(self, gateway: Gateway, *, mode: str, seconds: float, **options) -> None:
        super().__init__()
        self.gateway, self.mode, self.seconds, self.options = gateway, mode, seconds, options
        self.notes = {"mode": mode, "seconds": seconds, **options}
        gateway.mode(mode, **options)  # before the workers start: every early send meets it

    def tick(self, elapsed: float, taken: int) -> None:
        if elapsed >= self.seconds:
            self.mend()

    def mend(self) -> None:
        if not self.finished:
            self.gateway.mode("ok")
        self.finished = True


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    # The 429 burst has a goal of no failed message; the other scenarios may fail messages.
    no_failures_goal: bool = False
    # Tasks of 100 ids (a bulk campaign, the sweeper) instead of message_send's one id a task.
    chunked: bool = False


SCENARIOS = (
    Scenario("sigkill", "SIGKILL of a send worker mid-campaign"),
    Scenario("sigkill-chunks", "SIGKILL mid-campaign, 100 ids a task", chunked=True),
    Scenario("broker", "broker (redis-server) down 60 s mid-campaign"),
    Scenario("gateway-500", "gateway answers 500"),
    Scenario("gateway-429", "gateway answers 429 + Retry-After", no_failures_goal=True),
    Scenario("gateway-late", "gateway answers after the read timeout"),
    Scenario("gateway-close", "gateway takes the text, closes without answer"),
)


@dataclass
class Settings:
    """What every scenario shares (from the command line)."""

    messages: int
    workers: int
    concurrency: int
    deadline_seconds: float
    outage_seconds: float
    fault_seconds: float
    burst_seconds: float
    retry_after: int
    late_seconds: float


def scenario_run(
    scenario: Scenario,
    *,
    number: int,
    settings: Settings,
    processes: Processes,
    gateway: Gateway,
    url: str,
) -> dict:
    source_ref = f"campaign:faults-{scenario.slug}"
    print(f"\n{scenario.title} ({settings.messages:,} marketing SMS)", flush=True)
    gateway.reset()
    gateway.mode("ok")
    started = time.monotonic()
    ids = campaign_send(
        first_customer=1 + number * settings.messages,
        count=settings.messages,
        source_ref=source_ref,
    )
    if scenario.chunked:
        campaign_enqueue_in_chunks(ids)
    print(f"    made by message_send in {time.monotonic() - started:.1f} s", flush=True)
    fault = _fault(scenario, settings, processes, gateway)
    try:
        processes.start_send_workers(
            count=settings.workers,
            concurrency=settings.concurrency,
            label=scenario.slug,
        )
        drained_after = _drain(source_ref, fault, gateway, url, settings.deadline_seconds)
    finally:
        fault.mend()
        processes.stop_send_workers()
    record = gateway.record()
    outcome = campaign_outcome(url, source_ref, record["deliveries"])
    if record["refused"]:
        raise RuntimeError(f"the gateway refused malformed requests: {record['refusals']}")
    drained = "NOT DRAINED" if drained_after is None else f"drained in {drained_after:.1f} s"
    print(
        f"    {drained}; statuses {outcome.statuses}; gateway answers {record['answers']}",
        flush=True,
    )
    return {
        "scenario": scenario.slug,
        "title": scenario.title,
        "outcome": outcome.as_dict(),
        "drained_after_seconds": round(drained_after, 1) if drained_after is not None else None,
        "fault": fault.notes,
        "gateway_answers": record["answers"],
        "delivery_reports": record["reports"],
        "killed_threads": fault.notes.get("killed_worker_pool_threads"),
        "no_failures_goal": scenario.no_failures_goal,
    }


def _fault(scenario: Scenario, settings: Settings, processes: Processes, gateway: Gateway):
    mid_campaign = settings.messages // 3
    if scenario.slug in ("sigkill", "sigkill-chunks"):
        return WorkerKill(processes, at=mid_campaign, pool_threads=settings.concurrency)
    if scenario.slug == "broker":
        return BrokerOutage(processes, at=mid_campaign, seconds=settings.outage_seconds)
    if scenario.slug == "gateway-500":
        return GatewayFault(gateway, mode="500", seconds=settings.fault_seconds)
    if scenario.slug == "gateway-429":
        return GatewayFault(
            gateway, mode="429", seconds=settings.burst_seconds, retry_after=settings.retry_after
        )
    if scenario.slug == "gateway-late":
        return GatewayFault(
            gateway, mode="late", seconds=settings.fault_seconds, late_seconds=settings.late_seconds
        )
    if scenario.slug == "gateway-close":
        return GatewayFault(gateway, mode="close", seconds=settings.fault_seconds)
    raise ValueError(f"unknown scenario {scenario.slug!r}")


def _drain(source_ref: str, fault: Fault, gateway: Gateway, url: str, deadline: float):
    """Poll until the fault is over and no message is pending; returns the seconds that took, or
    None when the deadline passed first. Then, within the same deadline, wait for the gateway to
    post its last delivery reports, which settle statuses but are not part of the drain time."""
    started = time.monotonic()
    last_count = last_progress = 0.0
    drained_after = None
    while (elapsed := time.monotonic() - started) < deadline:
        taken, reports_pending = gateway.progress()
        if not fault.finished:
            fault.tick(elapsed, taken)
        if elapsed - last_count >= COUNT_SECONDS:
            last_count = elapsed
            counts = status_counts(url, source_ref)
            pending = any(counts.get(status) for status in PENDING)
            if drained_after is None and fault.finished and not pending:
                drained_after = elapsed
            if drained_after is not None and not reports_pending:
                break
            if elapsed - last_progress >= PROGRESS_SECONDS:
                last_progress = elapsed
                print(
                    f"    {elapsed:5.0f} s: {taken:,} texts taken, {reports_pending:,} reports "
                    f"to post; {counts}",
                    flush=True,
                )
        time.sleep(POLL_SECONDS)
    return drained_after
