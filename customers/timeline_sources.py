"""The timeline sources customers/ owns: events, orders, consent changes and notes."""

from customers.models import ConsentChange, Event, Note, Order
from customers.timeline import TimelineEntry, TimelineSource, register_timeline_source


def _event_entry(event: Event) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=event.occurred_at,
        kind="event",
        id=event.pk,
        title=event.name,
        data={"event_id": event.event_id, "properties": event.properties, "source": event.source},
    )


def _order_entry(order: Order) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=order.placed_at,
        kind="order",
        id=order.pk,
        title=f"Order {order.external_id}: {order.total} {order.currency} ({order.status})",
        data={
            "external_id": order.external_id,
            "status": order.status,
            "total": str(order.total),
            "currency": order.currency,
            "promo_code": order.promo_code,
            "items": [
                {"sku": i.sku, "name": i.name, "quantity": i.quantity, "price": str(i.price)}
                for i in order.items.all()
            ],
        },
    )


def _consent_entry(change: ConsentChange) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=change.occurred_at,
        kind="consent_change",
        id=change.pk,
        title=f"{change.get_channel_display()} consent: {change.previous_status} → {change.status}",
        data={
            "channel": change.channel,
            "previous_status": change.previous_status,
            "status": change.status,
            "source": change.source,
        },
    )


def _note_entry(note: Note) -> TimelineEntry:
    author = note.author.get_username() if note.author else ""
    return TimelineEntry(
        occurred_at=note.created_at,
        kind="note",
        id=note.pk,
        title=note.body[:80],
        data={"body": note.body, "author": author},
    )


def register() -> None:
    register_timeline_source(
        TimelineSource(
            kind="event",
            rows_for_customer=lambda cid: Event.objects.filter(customer_id=cid),
            time_field="occurred_at",
            to_entry=_event_entry,
        )
    )
    register_timeline_source(
        TimelineSource(
            kind="order",
            rows_for_customer=lambda cid: Order.objects.filter(customer_id=cid).prefetch_related(
                "items"
            ),
            time_field="placed_at",
            to_entry=_order_entry,
        )
    )
    register_timeline_source(
        TimelineSource(
            kind="consent_change",
            rows_for_customer=lambda cid: ConsentChange.objects.filter(customer_id=cid),
            time_field="occurred_at",
            to_entry=_consent_entry,
            channel_field="channel",
        )
    )
    register_timeline_source(
        TimelineSource(
            kind="note",
            rows_for_customer=lambda cid: Note.objects.filter(customer_id=cid).select_related(
                "author"
            ),
            time_field="created_at",
            to_entry=_note_entry,
        )
    )
