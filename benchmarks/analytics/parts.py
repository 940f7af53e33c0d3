"""The parts of the analytics benchmark, one module each, and what a part receives.

A part is a module in this package with:
- `NAME`: the name `--only` selects it by;
- `NEEDS_EVENTS`: whether it reads events (the generator then writes them; they take the longest);
- `add_options(parser)`: optional, its own command-line options;
- `run(bench: Bench) -> dict`: measures, prints as it goes, returns its part of the report;
- `goals(result: dict) -> list[dict]`: rows made with benchmarks.report.goal;
- `ok(result: dict) -> bool`: whether its checks (not its speed goals) passed.
"""

import argparse
import importlib
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from benchmarks.segments.generate import Sizes

# name -> module; a part that is not written yet is simply absent.
PART_MODULES: dict[str, str] = {
    "rollups": "benchmarks.analytics.rollups",
    "clv": "benchmarks.analytics.clv",
    "dashboards": "benchmarks.analytics.dashboards",
}


@dataclass(frozen=True)
class Bench:
    """What every part gets: the options, the environment Kaskad runs with, the database and the
    generated data's size and anchor (midnight UTC of the run's day)."""

    args: argparse.Namespace
    env: dict[str, str]
    url: str
    sizes: Sizes
    anchor: datetime


def parts_load(names: list[str] | None = None) -> list[ModuleType]:
    """The selected parts' modules, in PART_MODULES order; unknown names raise ValueError."""
    names = names or list(PART_MODULES)
    unknown = sorted(set(names) - set(PART_MODULES))
    if unknown:
        raise ValueError(f"unknown parts: {', '.join(unknown)}; known: {', '.join(PART_MODULES)}")
    return [importlib.import_module(path) for name, path in PART_MODULES.items() if name in names]
