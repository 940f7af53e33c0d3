"""Attributed revenue and conversions, and the holdout uplift of broadcasts and journeys.

Reports read only OrderAttribution (one grouped query per report, the period on its
(model, placed_at) index), then fetch the names of the few broadcasts, journeys and templates in
the result. Conversions are the sum of the weights: whole orders under last and first touch,
shares of orders under linear, so the totals of every model agree.

Uplift is measured on the holdout groups the campaigns already keep: a broadcast's
`BroadcastStats` holdout row against its variants, a journey split step's held-out enrollments
against those sent down an arm. Conversion rates are compared with the two-proportion z-test the
broadcasts' A/B statistics use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from analytics.models.attribution import OrderAttribution
from campaigns.broadcasts.models import Broadcast, BroadcastStats
from campaigns.broadcasts.services.abtest import two_proportion_test
from campaigns.journeys.models import Enrollment, Journey, StepStat
from campaigns.message_templates.models import Template
from channels.message_log import CHANNEL_LABELS
from customers.models import SegmentMembership

GROUPS = ("broadcast", "journey", "step", "channel", "template")
# The columns each grouping reads; rows whose message has no such source are left out.
GROUP_COLUMNS = {
    "broadcast": ("broadcast_id",),
    "journey": ("journey_id",),
    "step": ("journey_id", "step"),
    "channel": ("channel",),
    "template": ("template_id",),
}
MAX_ROWS = 500  # the most groups a report returns, by revenue


@dataclass(frozen=True)
class ReportFilter:
    model: str
    start: datetime
    end: datetime  # exclusive
    channel: str = ""
    segment_id: int | None = None


def _attributions(f: ReportFilter):
    rows = OrderAttribution.objects.filter(
        model=f.model, placed_at__gte=f.start, placed_at__lt=f.end
    )
    if f.channel:
        rows = rows.filter(channel=f.channel)
    if f.segment_id is not None:
        members = SegmentMembership.objects.filter(segment_id=f.segment_id).values("customer_id")
        rows = rows.filter(customer_id__in=members)
    return rows


def attribution_report(f: ReportFilter, group_by: str) -> list[dict]:
    """[{key, label, conversions, revenue, orders}] for the group, most revenue first."""
    columns = GROUP_COLUMNS[group_by]
    rows = (
        _attributions(f)
        .exclude(**{f"{columns[0]}__isnull": True})
        .exclude(**{columns[-1]: ""} if group_by == "step" else {})
        .values(*columns)
        .annotate(
            conversions=Sum("weight"),
            revenue=Sum("revenue"),
            orders=Count("order_id", distinct=True),
        )
        .order_by("-revenue", *columns)[:MAX_ROWS]
    )
    result = [
        {
            "key": ":".join(str(row[c]) for c in columns),
            **{c: row[c] for c in columns},
            "conversions": round(float(row["conversions"] or 0), 4),
            "revenue": Decimal(row["revenue"] or 0).quantize(Decimal("0.01")),
            "orders": row["orders"],
        }
        for row in rows
    ]
    _label(group_by, result)
    return result


def attribution_totals(f: ReportFilter) -> dict:
    """Attributed orders, conversions and revenue over everything the filter keeps."""
    row = _attributions(f).aggregate(
        conversions=Sum("weight"), revenue=Sum("revenue"), orders=Count("order_id", distinct=True)
    )
    return {
        "conversions": round(float(row["conversions"] or 0), 4),
        "revenue": Decimal(row["revenue"] or 0).quantize(Decimal("0.01")),
        "orders": row["orders"],
    }


def _label(group_by: str, rows: list[dict]) -> None:
    if group_by == "channel":
        for row in rows:
            row["label"] = str(CHANNEL_LABELS.get(row["channel"], row["channel"]))
        return
    model, column = {
        "broadcast": (Broadcast, "broadcast_id"),
        "journey": (Journey, "journey_id"),
        "step": (Journey, "journey_id"),
        "template": (Template, "template_id"),
    }[group_by]
    names = dict(
        model.objects.filter(pk__in={row[column] for row in rows}).values_list("pk", "name")
    )
    for row in rows:
        name = names.get(row[column], f"#{row[column]}")
        row["label"] = f"{name} · {row['step']}" if group_by == "step" else name


def _uplift(treated: tuple[int, int, Decimal], holdout: tuple[int, int, Decimal]) -> dict | None:
    """Treated against holdout, each (customers, converted, revenue)."""
    (n1, s1, r1), (n2, s2, r2) = treated, holdout
    if not n1 or not n2:
        return None
    z, p = two_proportion_test(s1, n1, s2, n2)
    rate1, rate2 = s1 / n1, s2 / n2
    revenue1, revenue2 = float(r1) / n1, float(r2) / n2
    return {
        "treated": n1,
        "treated_converted": s1,
        "treated_revenue": Decimal(r1).quantize(Decimal("0.01")),
        "holdout": n2,
        "holdout_converted": s2,
        "holdout_revenue": Decimal(r2).quantize(Decimal("0.01")),
        "conversion_rate": round(rate1, 6),
        "holdout_conversion_rate": round(rate2, 6),
        "uplift_points": round(rate1 - rate2, 6),
        "uplift_relative": round(rate1 / rate2 - 1, 4) if rate2 else None,
        "incremental_conversions": round((rate1 - rate2) * n1, 2),
        "incremental_revenue": Decimal(str(round((revenue1 - revenue2) * n1, 2))),
        "z": round(z, 4),
        "p_value": round(p, 6),
        "significant": p < 0.05,
    }


def broadcast_uplift(broadcast: Broadcast) -> dict | None:
    """From the broadcast's stats rows (kept current by its results refresh): everyone processed
    in the variants against the holdout, over the broadcast's conversion window."""
    treated, holdout = (0, 0, Decimal(0)), None
    for s in BroadcastStats.objects.filter(broadcast=broadcast):
        if s.holdout:
            holdout = (s.audience, s.converted, s.revenue)
        elif s.variant_id is not None:
            n, c, r = treated
            treated = (n + s.audience - s.pending, c + s.converted, r + s.revenue)
    if holdout is None:
        return None
    result = _uplift(treated, holdout)
    if result is not None:
        result.update(
            broadcast_id=broadcast.pk, name=broadcast.name, window_days=broadcast.conversion_days
        )
    return result


def journey_holdout_steps(journey: Journey) -> list[str]:
    """The split steps of any of its versions that held someone out."""
    return sorted(
        set(
            StepStat.objects.filter(
                version__journey=journey, key="passed:holdout", count__gt=0
            ).values_list("step", flat=True)
        )
    )


def journey_uplift(journey: Journey) -> list[dict]:
    """Per split step with a holdout: the runs held out there against the runs sent down one of
    its arms; converted = the journey's goal reached (Enrollment.converted_at, its revenue)."""
    results = []
    for step in journey_holdout_steps(journey):
        counts = Enrollment.objects.filter(journey=journey).aggregate(
            held=Count("id", filter=Q(context__holdout=step)),
            held_converted=Count("id", filter=Q(context__holdout=step, converted_at__isnull=False)),
            held_revenue=Sum("revenue", filter=Q(context__holdout=step)),
            sent=Count("id", filter=Q(context__arms__has_key=step)),
            sent_converted=Count(
                "id", filter=Q(context__arms__has_key=step, converted_at__isnull=False)
            ),
            sent_revenue=Sum("revenue", filter=Q(context__arms__has_key=step)),
        )
        result = _uplift(
            (counts["sent"], counts["sent_converted"], counts["sent_revenue"] or Decimal(0)),
            (counts["held"], counts["held_converted"], counts["held_revenue"] or Decimal(0)),
        )
        if result is not None:
            result.update(journey_id=journey.pk, name=journey.name, step=step)
            results.append(result)
    return results


def uplift_boxes(group_by: str, rows: list[dict]) -> list[dict]:
    """The uplift of the broadcasts or journeys in `rows` that kept a holdout (the page passes
    its top groups: a few queries each)."""
    if group_by == "broadcast":
        ids = [row["broadcast_id"] for row in rows]
        holdouts = BroadcastStats.objects.filter(broadcast_id__in=ids, holdout=True)
        boxes = [
            broadcast_uplift(b)
            for b in Broadcast.objects.filter(pk__in=holdouts.values("broadcast_id"))
        ]
        return [box for box in boxes if box]
    if group_by in ("journey", "step"):
        ids = {row["journey_id"] for row in rows}
        with_holdout = StepStat.objects.filter(
            version__journey_id__in=ids, key="passed:holdout", count__gt=0
        ).values("version__journey_id")
        return [
            box
            for journey in Journey.objects.filter(pk__in=with_holdout).order_by("name")
            for box in journey_uplift(journey)
        ]
    return []
