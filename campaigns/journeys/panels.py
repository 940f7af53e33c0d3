"""Reads for other apps' pages: a customer's journey runs, for the customer page."""

from __future__ import annotations

from campaigns.journeys.models import Enrollment

CUSTOMER_RUNS = 10


def customer_journey_runs(customer_id: int, limit: int = CUSTOMER_RUNS) -> list[Enrollment]:
    """The customer's newest runs (open ones first), with their journey."""
    return list(
        Enrollment.objects.filter(customer_id=customer_id)
        .select_related("journey")
        .order_by("ended_at", "-entered_at", "-id")[:limit]
    )
