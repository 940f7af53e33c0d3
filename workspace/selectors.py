"""Reads that compose several apps for the workspace pages."""

from datetime import datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from channels.models import Conversation, Message
from customers.models import Customer


def _today_start() -> datetime:
    now = timezone.localtime()
    return timezone.make_aware(datetime.combine(now.date(), time.min), now.tzinfo)


def home_summary() -> dict:
    since = _today_start()
    sends = list(
        Message.objects.filter(queued_at__gte=since)
        .values("channel", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "status")
    )
    return {
        "since": since,
        "sends_today": sum(row["n"] for row in sends),
        "sends": sends,
        "open_conversations": Conversation.objects.filter(status=Conversation.Status.OPEN).count(),
        "new_customers": Customer.objects.filter(created_at__gte=since).count(),
        "new_customers_week": Customer.objects.filter(
            created_at__gte=since - timedelta(days=6)
        ).count(),
    }
