from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from customers.models import Segment
from customers.services.rfm import rfm_compute
from customers.services.segments import (
    segment_refresh_or_mark,
    segments_refresh_all,
    segments_refresh_for_customers,
)


@shared_task
def compute_rfm_nightly() -> dict:
    """Recompute every customer's RFM scores as of today (UTC), then the segments built on them."""
    result = rfm_compute(as_of=timezone.now().date()).as_dict()
    segments_refresh_all()
    return result


@shared_task
def refresh_segment(segment_id: int) -> dict | None:
    """Re-evaluate one dynamic segment for every customer (a failure is marked on the segment)."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:  # deleted since it was queued
        return None
    result = segment_refresh_or_mark(segment=segment)
    return asdict(result) if result is not None else None


@shared_task
def refresh_all_segments() -> list[dict]:
    """The periodic full refresh: relative dates move on even when no data changes."""
    return [asdict(r) for r in segments_refresh_all()]


@shared_task
def refresh_segments_for_customers(
    customer_ids: list[int], kinds: list[str], event_names: list[str]
) -> list[dict]:
    """Re-evaluate only these customers, right after their data changed."""
    results = segments_refresh_for_customers(
        customer_ids=customer_ids, kinds=set(kinds), event_names=set(event_names)
    )
    return [asdict(r) for r in results]
