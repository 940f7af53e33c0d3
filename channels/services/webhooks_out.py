"""Outbound webhooks to the CRM: one WebhookDelivery per event and subscription, sent by a task.

Each delivery is a JSON POST signed with the subscription's secret (see docs/channels-conversations.md
for how a receiver verifies it). A failed POST is retried with exponential backoff by the sweeper
(`webhooks_sweep`, every 30 s) and given up after MAX_ATTEMPTS. The delivery rows are the log
shown in the admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time as clock
import uuid
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.publishing import task_publish
from channels.models import WebhookDelivery, WebhookSubscription
from channels.providers.http import pooled_session

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_CACHE_SECONDS = 10
DELIVERY_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8
# Wait after the n-th failed attempt (1-based) before the next one; ~43 hours in all.
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
# A worker holds a delivery this long while it POSTs; if it dies, the sweeper retries after it.
CLAIM_SECONDS = DELIVERY_TIMEOUT_SECONDS * 6
SWEEP_BATCH_SIZE = 1000
SWEEP_GRACE_SECONDS = 60  # a new delivery's own task normally runs well within this
USER_AGENT = "Kaskad-Webhooks/1"

_subscriptions_cache: tuple[float, list[WebhookSubscription]] | None = None
_session: requests.Session | None = None


# --- Emitting -----------------------------------------------------------------------------------
def webhook_event_emit(*, event_type: str, data: dict) -> list[int]:
    """Queue `event_type` with `data` for every active subscription that wants it.

    Runs in the caller's transaction: the deliveries exist only if the change they report commits,
    and they are sent after the commit.
    """
    return webhook_events_emit([(event_type, data)])


def webhooks_wanted(event_type: str) -> bool:
    """Whether any active subscription wants this event: callers skip building payloads if not."""
    return any(s.wants(event_type) for s in _active_subscriptions())


def webhook_consent_changes_emit(changes: list[Any]) -> list[int]:
    """`consent.changed` for each real consent change, in the change's transaction.

    Meant to be registered as a consent-change listener by customers/ (which cannot import
    channels/); each change has customer_id, channel, status and source (a ConsentUpdate). A batch
    upsert's thousand changes cost one read and one insert.
    """
    if not changes or not webhooks_wanted("consent.changed"):
        return []
    from customers.models import Customer

    external_ids = dict(
        Customer.objects.filter(pk__in={c.customer_id for c in changes}).values_list(
            "pk", "external_id"
        )
    )
    return webhook_events_emit(
        [
            (
                "consent.changed",
                {
                    "customer": external_ids.get(change.customer_id),
                    "channel": change.channel,
                    "status": change.status,
                    "source": change.source,
                },
            )
            for change in changes
        ]
    )


def webhook_events_emit(events: list[tuple[str, dict]]) -> list[int]:
    """Several events at once: one insert and one enqueue for a whole batch of sends."""
    subscriptions = _active_subscriptions()
    now = timezone.now()
    rows = []
    for event_type, data in events:
        wanting = [s for s in subscriptions if s.wants(event_type)]
        if not wanting:
            continue
        event_id = uuid.uuid4().hex
        payload = {"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data}
        rows.extend(
            WebhookDelivery(
                subscription_id=s.pk,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                next_attempt_at=now,
            )
            for s in wanting
        )
    if not rows:
        return []
    ids = [d.pk for d in WebhookDelivery.objects.bulk_create(rows)]
    transaction.on_commit(lambda: _enqueue(ids))
    return ids


def forget_webhook_subscriptions() -> None:
    """Drop the per-process subscriptions cache (the admin after a change, and tests)."""
    global _subscriptions_cache
    _subscriptions_cache = None


def _active_subscriptions() -> list[WebhookSubscription]:
    # Called for every message status change: a query each time would double the writes' cost.
    # A subscription added or paused in the admin takes effect within a few seconds.
    global _subscriptions_cache
    cached = _subscriptions_cache
    if cached is None or clock.monotonic() - cached[0] > SUBSCRIPTIONS_CACHE_SECONDS:
        cached = (clock.monotonic(), list(WebhookSubscription.objects.filter(is_active=True)))
        _subscriptions_cache = cached
    return cached[1]


def _enqueue(ids: list[int]) -> None:
    from channels.tasks import deliver_webhook

    for delivery_id in ids:
        if not task_publish(deliver_webhook, delivery_id):
            return  # the broker is down: the rows stay pending and the sweeper sends them


# --- Delivering ---------------------------------------------------------------------------------
def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of "{timestamp}.{body}" with the subscription's secret."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """POST one delivery if it is due and no other worker holds it.

    Returns "delivered", "retry" (failed, next attempt scheduled), "failed" (gave up) or
    "skipped" (not due, already done, or claimed by another worker).
    """
    now = now or timezone.now()
    # The claim: only one worker turns a due row into a held one, so two tasks for the same
    # delivery (the on-commit enqueue and a sweep) never POST it twice at once.
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    attempts = delivery.attempts + 1
    if not subscription.is_active:
        _record(delivery, WebhookDelivery.Status.FAILED, attempts, None, "subscription paused")
        return "failed"

    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(clock.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Kaskad-Event": delivery.event_type,
        "X-Kaskad-Delivery": delivery.event_id,
        "X-Kaskad-Timestamp": timestamp,
        "X-Kaskad-Signature": webhook_signature(
            secret=subscription.secret, timestamp=timestamp, body=body
        ),
    }
    response_status: int | None = None
    try:
        response = _http().post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=DELIVERY_TIMEOUT_SECONDS,
            # A redirect would turn the POST into a GET elsewhere; the CRM must fix its URL.
            allow_redirects=False,
        )
        response_status = response.status_code
        if 200 <= response.status_code < 300:
            _record(delivery, WebhookDelivery.Status.DELIVERED, attempts, response_status, "")
            return "delivered"
        error = f"HTTP {response.status_code}: {response.text[:300]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"

    finished = timezone.now()
    if attempts >= MAX_ATTEMPTS:
        _record(delivery, WebhookDelivery.Status.FAILED, attempts, response_status, error)
        return "failed"
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    _record(
        delivery,
        WebhookDelivery.Status.PENDING,
        attempts,
        response_status,
        error,
        next_attempt_at=finished + wait,
    )
    return "retry"


def webhooks_sweep(*, now: datetime | None = None) -> int:
    """Enqueue pending deliveries that are due (retries, and any lost to a broker outage)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        # A first attempt due only just now is still on its way from its own on_commit task.
        .filter(
            Q(next_attempt_at__isnull=True)
            | Q(attempts__gt=0, next_attempt_at__lte=now)
            | Q(next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE_SECONDS))
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    if ids:
        _enqueue(ids)
    return len(ids)


def webhook_delivery_retry(*, delivery_id: int) -> WebhookDelivery:
    """Send a failed delivery once more: back to pending, due now, enqueued after the caller's
    transaction commits. Its attempts still count, so if this one fails too it is failed again
    at once rather than retried for another two days. ValueError if it has not failed."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.FAILED:
        raise ValueError("only a failed delivery can be retried")
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


def _record(
    delivery: WebhookDelivery,
    status: str,
    attempts: int,
    response_status: int | None,
    error: str,
    next_attempt_at: datetime | None = None,
) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        attempts=attempts,
        response_status=response_status,
        last_error=error[:500],
        next_attempt_at=next_attempt_at,
        delivered_at=now if status == WebhookDelivery.Status.DELIVERED else None,
    )


def _http() -> requests.Session:
    global _session
    if _session is None:
        _session = pooled_session()
    return _session
