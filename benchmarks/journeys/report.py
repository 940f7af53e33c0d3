"""The journeys benchmark's goals table: each figure, its goal, the baseline it runs next to, and
whether it was met."""

from __future__ import annotations

import sys

from benchmarks.report import goal

GOAL_ENROL_SECONDS = 60
GOAL_ADVANCE_SECONDS = 120
GOAL_OUTCOME_P95_MS = 1000
GOAL_TIMER_LAG_P95_S = 10
GOAL_PEAK_MIB = 500


def goals(report: dict) -> list[dict]:
    rows = []
    enrolment = report["enrolment"]
    base = enrolment["baseline"]["seconds"]
    row = goal(
        f"(a) publish → {enrolment['enrolled']:,} enrolled",
        enrolment["seconds"],
        "s",
        f"≤ {GOAL_ENROL_SECONDS} s",
        enrolment["seconds"] <= GOAL_ENROL_SECONDS,
    )
    row["baseline"] = f"INSERT…SELECT {base:.1f} s"
    rows.append(row)
    rows.append(goal("(a) enrolment / INSERT…SELECT", enrolment["seconds"] / max(base, 1e-3), "×"))

    due = report["due"]["run"]
    copy = report["due"]["copy"]
    row = goal(
        f"(b) {due['runs_due']:,} due → advanced, queued",
        due["seconds"],
        "s",
        f"≤ {GOAL_ADVANCE_SECONDS} s",
        due["seconds"] <= GOAL_ADVANCE_SECONDS and not due["stalled"],
    )
    row["baseline"] = f"COPY {copy['seconds']:.1f} s"
    rows.append(row)
    rows.append(goal("(b) throughput", due["messages_per_second"], "msg/s"))
    rows.append(goal("(b) advance / COPY", due["seconds"] / max(copy["seconds"], 1e-3), "×"))
    usage = due["cpu"]
    messages = max(due["messages"], 1)
    rows.append(
        goal("(b) worker CPU per message", usage["workers_cpu_seconds"] * 1000 / messages, "ms")
    )
    rows.append(
        goal(
            "(b) PostgreSQL CPU per message", usage["postgres_cpu_seconds"] * 1000 / messages, "ms"
        )
    )

    outcomes = report["outcomes"]
    both = outcomes["commit_to_step"]
    if both:
        rows.append(
            goal(
                "(c) outcome → next step p95",
                both["p95_ms"],
                "ms",
                f"≤ {GOAL_OUTCOME_P95_MS:,} ms",
                both["p95_ms"] <= GOAL_OUTCOME_P95_MS and not outcomes["timeouts"],
            )
        )
        rows.append(goal("(c) outcome → next step p50", both["p50_ms"], "ms"))
        rows.append(goal("(c) outcome → next step max", both["max_ms"], "ms"))
        for kind in ("opened", "event"):
            part = outcomes[f"{kind}_commit_to_step"]
            if part:
                rows.append(goal(f"(c) {kind} → next step p95", part["p95_ms"], "ms"))

    lag = report["timers"]["lag"]
    if lag:
        rows.append(
            goal(
                "(d) timer lag p95",
                lag["p95_s"],
                "s",
                f"≤ {GOAL_TIMER_LAG_P95_S} s",
                lag["p95_s"] <= GOAL_TIMER_LAG_P95_S and not report["timers"]["not_picked_up"],
            )
        )
        rows.append(goal("(d) timer lag p50", lag["p50_s"], "s"))
        rows.append(goal("(d) timer lag max", lag["max_s"], "s"))

    for name, mib in report["memory_peak_mib"].items():
        rows.append(
            goal(f"(e) peak RSS {name}", mib, "MiB", f"≤ {GOAL_PEAK_MIB}", mib <= GOAL_PEAK_MIB)
        )
    generation = report["generation"]
    rows.append(goal("segment_refresh (fill)", generation["segment"]["refresh_seconds"], "s"))
    rows.append(goal("data generation, all", generation["seconds"], "s"))
    return rows


def print_report(report: dict) -> None:
    header = f"{'measure':<44} {'value':>14} {'goal':>10} {'baseline':>20} {'met':>4}"
    print("\n" + header)
    print("-" * len(header))
    for row in report["goals"]:
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        digits = 2 if abs(row["value"]) < 10 else 1
        value = f"{row['value']:,.{digits}f} {row['unit']}"
        print(
            f"{row['what']:<44} {value:>14} {row['goal']:>10} {row.get('baseline', ''):>20} "
            f"{met:>4}"
        )
    due = report["due"]["run"]
    usage = due["cpu"]
    print(
        f"\n(b) CPU s: workers {usage['workers_cpu_seconds']:.1f}, "
        f"PostgreSQL (whole server) {usage['postgres_cpu_seconds']:.1f}, "
        f"Redis {usage['redis_cpu_seconds']:.1f}, benchmark {usage['client_cpu_seconds']:.1f}, "
        f"other processes {usage['other_processes_cpu_seconds']:.1f} "
        f"({usage['other_processes_share']:.0%} of the machine); "
        f"load before {due['load_average_before'][0]:.2f}; {due['ticks']} ticks"
    )
    profile = report["due"].get("profile")
    if profile:
        print("\n(b) worker profile, by own time:")
        for row in profile[:25]:
            print(
                f"  {row['own_seconds']:8.2f} s own {row['cumulative_seconds']:8.2f} s cum "
                f"{row['calls']:>9,}  {row['function']}"
            )
    if report["problems"]:
        print(f"\nPROBLEMS: {report['problems']}", file=sys.stderr)
    else:
        print(
            "\nVerified: every member enrolled once; every due run advanced to `rest` with one "
            "queued email whose id is on the send queue; every outcome and timer moved its run."
        )
