"""Celery tasks of journeys (queue "journeys"): the tick, due runs, and outcomes arriving."""

from celery import shared_task

from campaigns.journeys.services import signals, tick


@shared_task(name="campaigns.journeys.tasks.journeys_tick", ignore_result=True)
def journeys_tick() -> dict:
    return tick.journeys_tick()


@shared_task(name="campaigns.journeys.tasks.journeys_advance_due", ignore_result=True)
def journeys_advance_due() -> int:
    return tick.journeys_due_advance()


@shared_task(name="campaigns.journeys.tasks.journey_message_signal", ignore_result=True)
def journey_message_signal(message_id: int, status: str) -> int:
    return signals.journey_message_signal(message_id=message_id, status=status)


@shared_task(name="campaigns.journeys.tasks.journey_reply_signal", ignore_result=True)
def journey_reply_signal(customer_id: int, channel: str) -> int:
    return signals.journey_reply_signal(customer_id=customer_id, channel=channel)


@shared_task(name="campaigns.journeys.tasks.journey_events_signal", ignore_result=True)
def journey_events_signal(event_ids: list[int]) -> int:
    return signals.journey_events_signal(event_ids=event_ids)


@shared_task(name="campaigns.journeys.tasks.journey_orders_signal", ignore_result=True)
def journey_orders_signal(order_ids: list[int]) -> int:
    return signals.journey_orders_signal(order_ids=order_ids)


@shared_task(name="campaigns.journeys.tasks.journey_opt_out_signal", ignore_result=True)
def journey_opt_out_signal(customer_ids: list[int]) -> int:
    return signals.journey_opt_out_signal(customer_ids=customer_ids)


@shared_task(name="campaigns.journeys.tasks.journey_segment_signal", ignore_result=True)
def journey_segment_signal(segment_id: int, at: str) -> int:
    return signals.journey_segment_signal(segment_id=segment_id, at=at)
