"""The customer bases and time windows that forecasts and goals measure on, as querysets.

Days are the workspace's days (settings.TIME_ZONE); a window is [start, end).
"""

import datetime as dt

from django.utils import timezone

from channels.models import Message
from customers.models import Customer, Order, SegmentMembership


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the workspace's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def completed_orders(start: dt.datetime, end: dt.datetime):
    return Order.objects.filter(
        status=Order.Status.COMPLETED, placed_at__gte=start, placed_at__lt=end
    )


def in_segment(customers, segment_id: int | None, column: str = "pk"):
    if segment_id is None:
        return customers
    members = SegmentMembership.objects.filter(segment_id=segment_id).values("customer_id")
    return customers.filter(**{f"{column}__in": members})


def messaged(start: dt.datetime, end: dt.datetime, channel: str):
    messages = Message.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if channel:
        messages = messages.filter(channel=channel)
    return messages


def active_base(start: dt.datetime, activity_days: int, segment_id: int | None):
    active = completed_orders(start - dt.timedelta(days=activity_days), start).values("customer_id")
    return in_segment(Customer.objects.filter(pk__in=active), segment_id)
