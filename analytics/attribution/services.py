"""Keeping OrderAttribution current: a queue of orders to redo, filled by hooks, emptied in chunks.

Orders land in `AttributionPending` when they are written (created or changed: a cancelled order
loses its credit) and when one of the customer's messages is engaged with after the fact (a click
reported late changes which message touched the order last). `attribution_refresh` takes the queue
a chunk at a time and rewrites each order's rows with one INSERT … SELECT per model; the periodic
task runs it every minute, `manage.py attribution_rebuild` queues every order first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from analytics.attribution.sql import (
    CREDITED_SOURCES,
    ENGAGEMENT_LOOKBACK_DAYS,
    attribution_insert_sql,
)
from analytics.models.attribution import (
    DEFAULT_CHANNEL_SETTINGS,
    AttributionChannelSetting,
    AttributionModel,
    AttributionPending,
    OrderAttribution,
)
from api.audit import audit_record
from api.models import AuditAction
from api.publishing import task_publish_on_commit
from channels.models import Message
from customers.models import Order

CHUNK_ORDERS = 2000  # orders recomputed per transaction
# Statuses that make a message a touch under some channel's rule.
TOUCH_STATUSES = ("delivered", "opened", "clicked")


def channel_settings() -> dict[str, tuple[str, int]]:
    """{channel: (touch rule, window in hours)}: the stored rows over the defaults."""
    settings = {str(c): (str(rule), hours) for c, (rule, hours) in DEFAULT_CHANNEL_SETTINGS.items()}
    for row in AttributionChannelSetting.objects.all():
        settings[row.channel] = (row.touch, row.window_hours)
    return settings


def attribution_channel_setting_save(
    *, channel: str, touch: str, window_hours: int, actor=None, ip: str | None = None
) -> None:
    """Change one channel's rule (audited). Every order is then queued to be redone by a task,
    which takes minutes on millions of orders, so not in the staff member's request."""
    before = channel_settings().get(channel)
    with transaction.atomic():
        AttributionChannelSetting.objects.update_or_create(
            channel=channel,
            defaults={"touch": touch, "window_hours": window_hours, "updated_at": timezone.now()},
        )
        audit_record(
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type="attribution_channel",
            object_id=channel,
            object_repr=channel,
            before={"touch": before[0], "window_hours": before[1]} if before else None,
            after={"touch": touch, "window_hours": window_hours},
            ip_address=ip,
        )
        from analytics.tasks import attribution_rebuild as rebuild_task

        task_publish_on_commit(rebuild_task)


def _insert_pending(select_sql: str, params: list) -> int:
    """INSERT the selected order ids into the queue; an id already queued gets a fresh time, so a
    refresh that holds it (and deletes it when done) does not swallow this newer change."""
    table = AttributionPending._meta.db_table
    sql = f"""
        INSERT INTO {table} (order_id, queued_at) {select_sql}
        ON CONFLICT (order_id) DO UPDATE SET queued_at = EXCLUDED.queued_at
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def attribution_pending_add(order_ids: list[int]) -> None:
    """customers.hooks.on_orders_written: inside the orders' transaction, so the queue entry
    commits (or rolls back) with the orders themselves."""
    ids = [int(pk) for pk in order_ids if pk is not None]
    if not ids:
        return
    table = Order._meta.db_table
    now = timezone.now()
    for start in range(0, len(ids), CHUNK_ORDERS):
        part = ids[start : start + CHUNK_ORDERS]
        marks = ", ".join(["%s"] * len(part))
        _insert_pending(f"SELECT id, %s FROM {table} WHERE id IN ({marks})", [now, *part])


def attribution_pending_add_for_message(message_id: int) -> int:
    """A message was delivered, opened or clicked: queue the customer's orders it may touch,
    those placed after it was queued and no later than the lookback allows."""
    message = (
        Message.objects.filter(pk=message_id, source__in=CREDITED_SOURCES)
        .values("customer_id", "queued_at")
        .first()
    )
    if message is None:
        return 0
    longest = max(hours for _, hours in channel_settings().values())
    until = message["queued_at"] + timedelta(days=ENGAGEMENT_LOOKBACK_DAYS, hours=longest)
    return _insert_pending(
        f"""SELECT id, %s FROM {Order._meta.db_table}
            WHERE customer_id = %s AND placed_at >= %s AND placed_at <= %s""",
        [timezone.now(), message["customer_id"], message["queued_at"], until],
    )


def attribution_pending_add_since(since: datetime | None) -> int:
    """Queue every order placed since `since` (all of them for None)."""
    where, params = ("WHERE placed_at >= %s", [since]) if since else ("WHERE 1 = 1", [])
    return _insert_pending(
        f"SELECT id, %s FROM {Order._meta.db_table} {where}", [timezone.now(), *params]
    )


def attribution_compute(order_ids: list[int]) -> None:
    """Rewrite the rows of these orders under every model (an order no longer credited, or
    without touches, is left with none)."""
    if not order_ids:
        return
    settings = channel_settings()
    with transaction.atomic():
        OrderAttribution.objects.filter(order_id__in=order_ids).delete()
        with connection.cursor() as cursor:
            for model in AttributionModel.values:
                cursor.execute(
                    attribution_insert_sql(model, settings, len(order_ids)), list(order_ids)
                )


def _refresh_chunk() -> int:
    with transaction.atomic():
        queued = AttributionPending.objects.order_by("order_id")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True)
        ids = list(queued.values_list("order_id", flat=True)[:CHUNK_ORDERS])
        if not ids:
            return 0
        attribution_compute(ids)
        AttributionPending.objects.filter(order_id__in=ids).delete()
        return len(ids)


def attribution_refresh(max_chunks: int | None = None) -> int:
    """Redo the queued orders, a chunk per transaction; the number of orders done."""
    done = chunks = 0
    while max_chunks is None or chunks < max_chunks:
        n = _refresh_chunk()
        if not n:
            break
        done += n
        chunks += 1
    return done


def attribution_rebuild(since: datetime | None = None) -> int:
    """Queue every order (placed since `since`) and redo them all now."""
    with transaction.atomic():
        attribution_pending_add_since(since)
    return attribution_refresh()


def attribution_on_message_status(message_id, status, source, source_ref, customer_id) -> None:
    """channels.listeners.on_message_status: runs after the status change committed."""
    if status in TOUCH_STATUSES and source in CREDITED_SOURCES:
        attribution_pending_add_for_message(message_id)
