"""Journeys listen to channels (message statuses, replies) and customers (events, orders,
consents, segment changes); each callback only publishes a task with ids, after the commit."""

from api.publishing import task_publish, task_publish_on_commit
from campaigns.journeys.models import Journey, JourneyStatus

JOURNEY_STATUSES = ("delivered", "opened", "clicked")


def _any_journey() -> bool:
    return Journey.objects.filter(status__in=(JourneyStatus.LIVE, JourneyStatus.PAUSED)).exists()


def _message_status(message_id, status, source, source_ref, customer_id) -> None:
    from campaigns.journeys.tasks import journey_message_signal

    if source == "journey" and status in JOURNEY_STATUSES:
        task_publish(journey_message_signal, message_id, status)


def _inbound(inbound_id, customer_id, channel) -> None:
    from campaigns.journeys.tasks import journey_reply_signal

    if customer_id and _any_journey():
        task_publish(journey_reply_signal, customer_id, channel)


def _events(events: list[dict]) -> None:
    from campaigns.journeys.tasks import journey_events_signal
    from customers.models import Event

    if not events or not _any_journey():
        return
    ids = list(
        Event.objects.filter(event_id__in=[e["event_id"] for e in events]).values_list(
            "pk", flat=True
        )
    )
    if ids:
        task_publish(journey_events_signal, ids)


def _orders(order_ids: list[int]) -> None:
    from campaigns.journeys.tasks import journey_orders_signal

    if order_ids and _any_journey():
        task_publish(journey_orders_signal, list(order_ids))


def _consents(updates) -> None:
    from campaigns.journeys.tasks import journey_opt_out_signal

    opted_out = sorted({u.customer_id for u in updates if u.status == "opted_out"})
    if opted_out:
        task_publish_on_commit(journey_opt_out_signal, opted_out)


def _segment(segment_id: int, at: str) -> None:
    from campaigns.journeys.tasks import journey_segment_signal

    if _any_journey():
        task_publish(journey_segment_signal, segment_id, at)


def journey_receivers_connect() -> None:
    from channels.listeners import on_inbound, on_message_status
    from customers.hooks import on_events_ingested, on_orders_changed, on_segment_changed
    from customers.services.consents import register_consent_listener

    on_message_status(_message_status)
    on_inbound(_inbound)
    on_events_ingested(_events)
    on_orders_changed(_orders)
    register_consent_listener(_consents)
    on_segment_changed(_segment)
