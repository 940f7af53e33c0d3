"""Outbound webhooks to the CRM: one WebhookDelivery per event and subscription, sent by a task."""

import uuid

from django.db import transaction
from django.utils import timezone

from channels.models import WebhookDelivery, WebhookSubscription


def webhook_event_emit(*, event_type: str, data: dict) -> list[int]:
    """Queue `event_type` with `data` for every active subscription that wants it.

    Runs in the caller's transaction: the deliveries exist only if the change they report commits,
    and they are sent after the commit.
    """
    subscriptions = [s for s in _active_subscriptions() if s.wants(event_type)]
    if not subscriptions:
        return []
    now = timezone.now()
    event_id = uuid.uuid4().hex
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=s,
                event_type=event_type,
                event_id=event_id,
                payload={
                    "id": event_id,
                    "type": event_type,
                    "created_at": now.isoformat(),
                    "data": data,
                },
                next_attempt_at=now,
            )
            for s in subscriptions
        ]
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _active_subscriptions() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(is_active=True))


def _enqueue(ids: list[int]) -> None:
    from channels.tasks import deliver_webhook

    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
