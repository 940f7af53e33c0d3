"""What the CLV page and API read: the latest fit and CLV averages by segment.

Averages are over the customers who have a value (a completed order); each row carries how many
those are, next to the segment's members, so a reader sees what an average stands on. Each is one
GROUP BY over CustomerValue joined to the segment tables.
"""

from django.db.models import Avg, Count, Sum

from analytics.models import ClvFit
from customers.models import CustomerValue, RfmSegment, SegmentMembership

# The segments page lists every segment; this one shows the largest, as a chart stays readable.
SEGMENTS_SHOWN = 30


def clv_fit_latest() -> ClvFit | None:
    """The latest successful fit: the one whose values customers carry."""
    return ClvFit.objects.filter(status=ClvFit.Status.OK).order_by("-fitted_at", "-pk").first()


def clv_attempt_latest() -> ClvFit | None:
    """The latest run, failed or not (the page says why a failed one failed)."""
    return ClvFit.objects.order_by("-fitted_at", "-pk").first()


def _averages(row: dict) -> dict:
    return {
        "customers": row["customers"],
        "avg_historic": round(float(row["avg_historic"] or 0), 2),
        "avg_clv_12m": round(float(row["avg_clv"] or 0), 2),
        "avg_p_alive": round(float(row["avg_p_alive"] or 0), 4),
        "total_clv_12m": round(float(row["total_clv"] or 0), 2),
    }


_AGGREGATES = {
    "customers": Count("*"),
    "avg_historic": Avg("historic_revenue"),
    "avg_clv": Avg("clv_12m"),
    "avg_p_alive": Avg("p_alive"),
    "total_clv": Sum("clv_12m"),
}


def clv_overall() -> dict:
    return _averages(CustomerValue.objects.aggregate(**_AGGREGATES))


def clv_by_rfm_segment() -> list[dict]:
    """One row per RFM segment (in the grid's order), plus customers without an RFM score."""
    rows = {
        row["customer__rfm__segment"]: row
        for row in CustomerValue.objects.values("customer__rfm__segment")
        .annotate(**_AGGREGATES)
        .order_by()
    }
    result = []
    for segment in [*RfmSegment.values, None]:
        if segment in rows:
            result.append({"rfm_segment": segment, **_averages(rows[segment])})
    return result


def clv_by_segment(limit: int = SEGMENTS_SHOWN) -> list[dict]:
    """The largest segments (by members with a value) with their CLV averages."""
    aggregates = {
        "customers": Count("*"),
        "avg_historic": Avg("customer__value__historic_revenue"),
        "avg_clv": Avg("customer__value__clv_12m"),
        "avg_p_alive": Avg("customer__value__p_alive"),
        "total_clv": Sum("customer__value__clv_12m"),
    }
    rows = (
        SegmentMembership.objects.filter(customer__value__isnull=False)
        .values("segment_id", "segment__name")
        .annotate(**aggregates)
        .order_by("-customers", "segment__name")[:limit]
    )
    return [
        {"segment_id": row["segment_id"], "name": row["segment__name"], **_averages(row)}
        for row in rows
    ]


def clv_fit_params(fit: ClvFit) -> dict:
    """The parameters as the API and the page show them."""
    return {
        "bgnbd": {
            "r": fit.r,
            "alpha": fit.alpha,
            "a": fit.a,
            "b": fit.b,
            "log_likelihood": fit.bgnbd_log_likelihood,
        },
        "gamma_gamma": {
            "p": fit.p,
            "q": fit.q,
            "gamma": fit.gamma,
            "log_likelihood": fit.gamma_gamma_log_likelihood,
        },
    }
