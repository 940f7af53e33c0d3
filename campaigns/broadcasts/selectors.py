"""Reading broadcasts: lists, the audience, and the results report (from the stats rows)."""

from __future__ import annotations

from django.core.cache import cache

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStats,
    RecipientGroup,
    RecipientState,
)
from campaigns.broadcasts.services.abtest import holdout_uplift
from campaigns.broadcasts.services.launch import broadcast_progress

COUNTS = (
    "audience",
    "pending",
    "queued",
    "suppressed",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "failed",
    "unsubscribed",
    "complaints",
    "converted",
)


def broadcast_list():
    return Broadcast.objects.select_related("template", "segment").order_by("-created_at", "-id")


def broadcast_recipients(broadcast: Broadcast):
    """The fixed audience, in snapshot order (paged by id with a cursor)."""
    return BroadcastRecipient.objects.filter(broadcast=broadcast).order_by("id")


def _rates(row: dict) -> dict:
    sent = row["sent"] or 0
    treated = row["audience"] - row["pending"]
    return {
        "delivery_rate": row["delivered"] / sent if sent else None,
        "open_rate": row["opened"] / sent if sent else None,
        "click_rate": row["clicked"] / sent if sent else None,
        "unsubscribe_rate": row["unsubscribed"] / sent if sent else None,
        "conversion_rate": row["converted"] / treated if treated else None,
        "revenue_per_recipient": float(row["revenue"]) / treated if treated else None,
    }


def _row(stats: BroadcastStats) -> dict:
    row = {name: getattr(stats, name) for name in COUNTS}
    row["revenue"] = stats.revenue
    row["suppressed_by_reason"] = dict(
        sorted(stats.suppressed_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    row["rates"] = _rates(row)
    row["hourly"] = stats.hourly
    return row


def broadcast_results(broadcast: Broadcast) -> dict:
    """Everything the results page and the API show, from a handful of rows."""
    stats = list(BroadcastStats.objects.filter(broadcast=broadcast).select_related("variant"))
    variants = {v.pk: v for v in broadcast.variants.select_related("template", "version")}
    variant_rows = []
    treated = []
    holdout = None
    for s in stats:
        if s.holdout:
            holdout = s
            continue
        variant = variants.get(s.variant_id)
        if variant is None:
            continue
        treated.append(s)
        row = _row(s)
        row.update(
            key=variant.key,
            variant_id=variant.pk,
            template=(variant.template or broadcast.template).name,
            version=variant.version.number if variant.version else None,
            subject=variant.subject,
            channel=variant.channel or broadcast.channel,
            winner=broadcast.winner_id == variant.pk,
        )
        variant_rows.append(row)
    variant_rows.sort(key=lambda r: r["key"])
    total = {name: sum(r[name] for r in variant_rows) for name in COUNTS}
    total["revenue"] = sum((r["revenue"] for r in variant_rows), 0)
    reasons: dict[str, int] = {}
    for r in variant_rows:
        for reason, n in r["suppressed_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    total["suppressed_by_reason"] = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    total["rates"] = _rates(total)
    return {
        "broadcast_id": broadcast.pk,
        "status": broadcast.status,
        "progress": broadcast_progress(broadcast),
        "refreshed_at": broadcast.stats_refreshed_at,
        "conversion_days": broadcast.conversion_days,
        "total": total,
        "variants": variant_rows,
        "holdout": _row(holdout) if holdout else None,
        "uplift": holdout_uplift(treated, holdout),
        "ab": {
            "metric": broadcast.ab_metric,
            "test_percent": broadcast.test_percent,
            "test_hours": broadcast.test_hours,
            "winner": variants[broadcast.winner_id].key
            if broadcast.winner_id in variants
            else None,
            "decided_at": broadcast.winner_at,
            "stats": broadcast.winner_stats,
        }
        if broadcast.is_ab
        else None,
    }


def broadcast_progress_live(broadcast: Broadcast) -> dict:
    """`broadcast_progress` measured against what can be sent now, for the live progress bar.

    The holdout is never processed and, while an A/B test runs, only the test group is sent, so
    the bar's 100 % is the audience less the holdout (or the test group while testing). Both
    sizes are fixed at launch: read from the stats rows once they exist (the holdout row; the
    variant rows, which hold only the test group until the winner is known), counted otherwise,
    and kept in the cache.
    """
    progress = broadcast_progress(broadcast)
    if not broadcast.launched_at:
        return {**progress, "target": 0, "held": 0, "percent": 0.0}
    held = 0
    if broadcast.holdout_percent:
        held = _fixed_count(broadcast, "held", {"state": RecipientState.HELD}, holdout=True)
    target = broadcast.audience_count - held
    if broadcast.is_ab and broadcast.winner_id is None:
        target = _fixed_count(broadcast, "test", {"group": RecipientGroup.TEST}, holdout=False)
    percent = 100.0 if target <= 0 else min(100.0, 100 * broadcast.processed_count / target)
    return {**progress, "target": max(target, 0), "held": held, "percent": round(percent, 1)}


def _fixed_count(broadcast: Broadcast, name: str, where: dict, *, holdout: bool) -> int:
    key = f"broadcast:{broadcast.pk}:{broadcast.launched_at.timestamp()}:{name}"
    count = cache.get(key)
    if count is not None:
        return count
    rows = list(
        BroadcastStats.objects.filter(broadcast=broadcast, holdout=holdout).values_list(
            "audience", flat=True
        )
    )
    if (
        rows
        and broadcast.stats_refreshed_at
        and broadcast.stats_refreshed_at >= broadcast.launched_at
    ):
        count = sum(rows)
    else:  # no refresh yet: count once (the holdout through the state index)
        count = BroadcastRecipient.objects.filter(broadcast=broadcast, **where).count()
    cache.set(key, count, timeout=7 * 24 * 3600)
    return count
