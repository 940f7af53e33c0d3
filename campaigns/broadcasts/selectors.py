"""Reading broadcasts: lists, the audience, and the results report (from the stats rows)."""

from __future__ import annotations

from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStats,
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
            template=content_name(broadcast, variant),
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


def content_name(broadcast, variant=None) -> str:
    """What the broadcast (or a variant) sends: the template's name, or the survey's."""
    template = (variant.template if variant is not None else None) or broadcast.template
    if template is not None:
        return template.name
    from campaigns.journeys.extensions import surveys_by_id

    survey = surveys_by_id().get(broadcast.survey_id)
    return survey.name if survey else f"#{broadcast.survey_id}"
