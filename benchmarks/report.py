"""The goals table every benchmark prints: a measure, its value, the goal and whether it was met."""


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
