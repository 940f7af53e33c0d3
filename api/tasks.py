from celery import shared_task

from api.services import idempotency_records_purge_expired


@shared_task
def purge_expired_idempotency_records() -> int:
    return idempotency_records_purge_expired()
