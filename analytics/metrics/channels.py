"""Channel performance: sent → delivered → opened → clicked → converted, with SMS parts and cost.

Counts are messages queued in the period by how far they got (delivered includes those opened or
clicked later, as a provider may report an open without a delivery). The whole base reads
DailyChannelRollup; a segment reads messages with one grouped query. Converted are customers who
ordered within the conversion window after a message (see conversion.message_conversion). The SMS
cost is parts × the tariff set in DeliverySettings.sms_part_price, at today's price.
"""

from django.db.models import Count, Q, Sum

from analytics.metrics import formulas
from analytics.metrics.conversion import message_conversion
from analytics.metrics.filters import MetricFilters
from analytics.models import DailyChannelRollup
from channels.models import Message, MessageStatus
from channels.services.policy import delivery_settings, sms_cost

STAGES = ("sent", "delivered", "opened", "clicked", "failed")
REACHED = {
    "sent": ("sent_at", "delivered_at", "opened_at", "clicked_at"),
    "delivered": ("delivered_at", "opened_at", "clicked_at"),
    "opened": ("opened_at", "clicked_at"),
    "clicked": ("clicked_at",),
}


def message_stage_counts() -> dict:
    """Count() expressions per funnel stage over Message rows (shared with the rollup refresh)."""
    counts = {}
    for name, fields in REACHED.items():
        q = Q(pk__in=[])
        for field in fields:
            q |= Q(**{f"{field}__isnull": False})
        counts[name] = Count("pk", filter=q)
    counts["failed"] = Count(
        "pk", filter=Q(status__in=[MessageStatus.FAILED, MessageStatus.BOUNCED])
    )
    counts["sms_parts"] = Sum(
        "parts", filter=Q(sent_at__isnull=False) | Q(delivered_at__isnull=False)
    )
    return counts


def channels_funnel(
    filters: MetricFilters, *, window_days: int, source: str = "auto"
) -> list[dict]:
    if source != "orders" and not filters.narrowed:
        rows = DailyChannelRollup.objects.filter(
            day__gte=filters.date_from, day__lte=filters.date_to
        )
        if filters.channel:
            rows = rows.filter(channel=filters.channel)
        rows = rows.values("channel").annotate(**{s: Sum(s) for s in (*STAGES, "sms_parts")})
    else:
        rows = Message.objects.filter(
            filters.customer_q(), queued_at__gte=filters.start, queued_at__lt=filters.end
        )
        if filters.channel:
            rows = rows.filter(channel=filters.channel)
        rows = rows.values("channel").annotate(**message_stage_counts())
    converted = {
        row["channel"]: row for row in message_conversion(filters, window_days=window_days)
    }
    out = []
    for row in rows.order_by("channel"):
        if not (row["sent"] or row["failed"]):
            continue
        conv = converted.get(row["channel"], {"converted": 0, "recipients": 0})
        parts = row["sms_parts"] or 0
        cost = sms_cost(parts) if parts else None
        out.append(
            {"channel": row["channel"]}
            | {stage: row[stage] for stage in STAGES}
            | {
                "recipients": conv["recipients"],
                "converted": conv["converted"],
                "delivery_rate": formulas.percent(row["delivered"], row["sent"]),
                "open_rate": formulas.percent(row["opened"], row["delivered"]),
                "click_rate": formulas.percent(row["clicked"], row["opened"]),
                "conversion_rate": formulas.percent(conv["converted"], conv["recipients"]),
                "sms_parts": parts,
                "cost": cost[0] if cost else None,
                "cost_currency": cost[1] if cost else None,
                "cost_per_part": delivery_settings().sms_part_price if cost else None,
            }
        )
    return out
