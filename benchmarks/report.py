"""What every benchmark's report shares: the goals table (a measure, its value, the goal and
whether it was met), the machine it ran on and the JSON file it is kept in."""

import os
import platform
from datetime import datetime
from pathlib import Path

import orjson

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def goal(what: str, value: float, unit: str, target: str = "", met: bool | None = None) -> dict:
    """One row: `target` is how the goal reads ("≥ 1,000"), `met` None for a figure without one."""
    return {"what": what, "value": round(value, 3), "unit": unit, "goal": target, "met": met}


def goals_print(rows: list[dict], *, what_width: int, value_format: str) -> None:
    header = f"{'measure':<{what_width}} {'value':>14} {'goal':>9} {'met':>4}"
    print("\n" + header)
    print("-" * len(header))
    for row in rows:
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        value = f"{row['value']:{value_format}} {row['unit']}"
        print(f"{row['what']:<{what_width}} {value:>14} {row['goal']:>9} {met:>4}")


def report_save(report: dict, name: str, started_at: datetime) -> Path:
    """Add the machine's facts (moving `report["postgres"]`, the server version, among them) and
    write the report to benchmarks/results/<name>-<time>.json; returns the path."""
    report["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": report.pop("postgres"),
        "platform": platform.platform(),
        "load_average_at_end": os.getloadavg(),
    }
    path = RESULTS_DIR / f"{name}-{started_at:%Y%m%d-%H%M%S}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path
