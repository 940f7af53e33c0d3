"""The "points" value in message templates: {{ points.balance }}, {{ points.next_expiry_date }},
{{ points.next_expiry_points }}."""

from campaigns.loyalty.selectors import points_summaries


def points_context(customers: list, options: dict) -> dict:
    summaries = points_summaries([c.pk for c in customers])
    return {
        cid: {
            "balance": s.balance,
            "next_expiry_date": s.next_expiry_at.date().isoformat() if s.next_expiry_at else None,
            "next_expiry_points": s.next_expiry_points,
        }
        for cid, s in summaries.items()
    }
