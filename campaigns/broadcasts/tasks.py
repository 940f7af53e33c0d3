"""Celery tasks of broadcasts: one chunk of sending, and the minute tick."""

from celery import shared_task

from campaigns.broadcasts.services.sending import broadcast_chunk_send as chunk_send
from campaigns.broadcasts.services.tick import broadcasts_tick as tick


@shared_task(name="campaigns.broadcasts.tasks.broadcast_chunk_send", ignore_result=True)
def broadcast_chunk_send(broadcast_id: int, first_id: int, last_id: int) -> int:
    return chunk_send(broadcast_id, first_id, last_id)


@shared_task(name="campaigns.broadcasts.tasks.broadcasts_tick", ignore_result=True)
def broadcasts_tick() -> dict:
    return tick()
