"""The RFM page: the R×F heatmap, the 11 named segments, and the customers of one cell."""

import math

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from customers.labels import RFM_SEGMENT_LABELS
from customers.segments.pages import rfm_cell_customers_page
from customers.selectors import rfm_matrix
from customers.services.rfm import RFM_SEGMENT_GRID
from workspace.permissions import staff_permission_required

SEGMENT_DESCRIPTIONS = {
    "champions": _("Bought recently, buy often and spend the most."),
    "loyal_customers": _("Buy regularly; respond to promotions."),
    "potential_loyalists": _("Recent customers with more than one order."),
    "new_customers": _("Bought most recently, for the first time."),
    "promising": _("Recent shoppers with a single order so far."),
    "need_attention": _("Average recency and frequency; may slip away."),
    "about_to_sleep": _("Below average recency and frequency."),
    "at_risk": _("Bought often, but long ago."),
    "cant_lose_them": _("Bought the most often, but have not come back."),
    "hibernating": _("Last order long ago, few orders."),
    "lost": _("Lowest recency and frequency."),
}
HEAT_LEVELS = 5


def _ranges(numbers: list[int]) -> str:
    numbers = sorted(numbers)
    parts, start = [], numbers[0]
    for previous, current in zip(numbers, [*numbers[1:], None], strict=True):
        if current != previous + 1 if current is not None else True:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
            start = current
    return ", ".join(parts)


def segment_definitions() -> dict[str, str]:
    """Each segment's cells as "R 5 · F 4–5" (rows with the same F range merged)."""
    by_segment: dict[str, dict[str, list[int]]] = {}
    for r, row in RFM_SEGMENT_GRID.items():
        cells: dict[str, list[int]] = {}
        for f, segment in enumerate(row, start=1):
            cells.setdefault(segment.value, []).append(f)
        for segment, fs in cells.items():
            by_segment.setdefault(segment, {}).setdefault(_ranges(fs), []).append(r)
    return {
        segment: "; ".join(f"R {_ranges(rs)} · F {fs}" for fs, rs in groups.items())
        for segment, groups in by_segment.items()
    }


def _int_in(value, low: int, high: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


@staff_permission_required("view_rfm")
def rfm_page(request):
    matrix = rfm_matrix()
    top = max((cell["share"] for cell in matrix["cells"]), default=0)
    labels = RFM_SEGMENT_LABELS
    for cell in matrix["cells"]:
        cell["heat"] = (
            math.ceil(HEAT_LEVELS * cell["share"] / top) if top and cell["customers"] else 0
        )
        cell["label"] = labels[cell["segment"]]
        cell["percent"] = cell["share"] * 100
    rows = [{"r": r, "cells": [c for c in matrix["cells"] if c["r"] == r]} for r in (5, 4, 3, 2, 1)]
    definitions = segment_definitions()
    segments = [
        {
            **group,
            "label": labels[group["segment"]],
            "percent": group["share"] * 100,
            "definition": definitions[group["segment"]],
            "description": SEGMENT_DESCRIPTIONS[group["segment"]],
        }
        for group in matrix["segments"]
    ]
    r = _int_in(request.GET.get("r"), 1, 5)
    f = _int_in(request.GET.get("f"), 1, 5)
    selected, customers, next_after = None, [], None
    if r and f:
        selected = next(c for c in matrix["cells"] if c["r"] == r and c["f"] == f)
        customers, next_after = rfm_cell_customers_page(
            r=r, f=f, after=_int_in(request.GET.get("after"), 1, 2**62)
        )
    ctx = {
        "page": "rfm",
        "matrix": matrix,
        "rows": rows,
        "f_scores": [1, 2, 3, 4, 5],
        "segments": segments,
        "selected": selected,
        "customers": customers,
        "next_after": next_after,
    }
    return render(request, "customers/rfm.html", ctx)
