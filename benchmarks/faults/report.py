"""The fault suite's table: one row per scenario with what became of its messages, then the goals
with their figures (as benchmarks/report.py prints them for every benchmark)."""

from __future__ import annotations

from benchmarks.report import goal, goals_print

COLUMNS = (
    ("scenario", 14, "<"),
    ("messages", 8, ">"),
    ("exactly once", 12, ">"),
    ("lost", 5, ">"),
    ("duplicated", 10, ">"),
    ("failed", 6, ">"),
    ("unconfirmed", 11, ">"),
    ("pending", 7, ">"),
    ("drain", 8, ">"),
)


def table_print(results: list[dict]) -> None:
    header = " ".join(f"{name:{align}{width}}" for name, width, align in COLUMNS)
    print("\n" + header)
    print("-" * len(header))
    for result in results:
        o = result["outcome"]
        drained = result["drained_after_seconds"]
        cells = (
            result["scenario"],
            f"{o['messages']:,}",
            f"{o['exactly_once']:,}",
            f"{o['lost']:,}",
            f"{o['duplicated']:,}",
            f"{o['failed']:,}",
            "n/a" if o["unconfirmed"] is None else f"{o['unconfirmed']:,}",
            f"{o['still_pending']:,}",
            f"{drained:.1f} s" if drained is not None else "deadline",
        )
        print(
            " ".join(
                f"{cell:{align}{width}}"
                for cell, (_, width, align) in zip(cells, COLUMNS, strict=True)
            )
        )
    print(
        "lost: taken by Kaskad, never reached the gateway, not failed or unconfirmed; "
        "duplicated: the gateway took it more than once; pending: still queued when drained "
        "or at the deadline"
    )
    for result in results:
        o, notes = result["outcome"], result["fault"]
        details = [f"{o['extra_copies']:,} extra texts"] if o["duplicated"] else []
        if o["failed_but_delivered"]:
            details.append(f"{o['failed_but_delivered']:,} failed although the gateway took them")
        if o["unconfirmed"]:
            details.append(
                f"{o['unconfirmed_but_delivered']:,} of the unconfirmed reached the gateway"
            )
        details.append(f"most attempts {o['attempts_max']}")
        details.append(f"gateway answers {result['gateway_answers']}")
        details.append(f"delivery reports {result['delivery_reports']}")
        if notes:
            details.append(", ".join(f"{key} {value}" for key, value in notes.items()))
        print(f"  {result['scenario']}: " + "; ".join(details))


def goals(results: list[dict]) -> list[dict]:
    rows = []
    for result in results:
        o, name = result["outcome"], result["scenario"]
        rows.append(goal(f"{name}: lost", o["lost"], "msg", "= 0", o["lost"] == 0))
        threads = result["killed_threads"]
        if threads is None:
            rows.append(
                goal(f"{name}: duplicated", o["duplicated"], "msg", "= 0", o["duplicated"] == 0)
            )
        else:
            rows.append(
                goal(
                    f"{name}: duplicated (≤ 1 per killed thread)",
                    o["duplicated"],
                    "msg",
                    f"≤ {threads}",
                    o["duplicated"] <= threads,
                )
            )
        if result["no_failures_goal"]:
            rows.append(goal(f"{name}: failed", o["failed"], "msg", "= 0", o["failed"] == 0))
        drained = result["drained_after_seconds"]
        rows.append(goal(f"{name}: drained", drained or 0, "s", "drained", drained is not None))
    return rows


def report_print(results: list[dict]) -> list[dict]:
    table_print(results)
    rows = goals(results)
    goals_print(rows, what_width=52, value_format=",.0f")
    return rows
