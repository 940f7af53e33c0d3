"""The one way Kaskad puts a task on the broker: bounded in time, and never an error for the caller.

Every task published here has a sweeper or a periodic full run behind it (messages_sweep,
webhooks_sweep, the segment refresh every 15 minutes), so a task lost to a broker outage is only
late. The write that asked for it has already committed; failing the request then would tell the
client its data was not stored when it was, and invite a retry that does the work twice.
"""

import logging
from functools import partial
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

# Total time one publish may spend connecting to the broker and retrying. Celery's defaults
# (4 s connect timeout, retries, and the Redis result backend's own reconnect loop) added up to
# 19 s of a request while the broker was down.
PUBLISH_TIMEOUT_SECONDS = 1.0
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}


def task_publish(task: Task, *args: Any, **options: Any) -> bool:
    """Publish `task(*args)`; False (and a logged warning) if the broker did not take it.

    Results are ignored: nothing waits for these tasks, and asking for a result makes Celery
    subscribe to the result backend, which retries for many seconds when Redis is down.
    """
    with task.app.producer_or_acquire() as producer:
        broker_errors = (
            KombuError,
            OSError,
            *producer.connection.connection_errors,
            *producer.connection.channel_errors,
        )
        try:
            producer.connection.ensure_connection(
                max_retries=1, timeout=PUBLISH_TIMEOUT_SECONDS, interval_start=0
            )
            task.apply_async(
                args,
                producer=producer,
                ignore_result=True,
                retry_policy=PUBLISH_RETRY_POLICY,
                **options,
            )
        except broker_errors:
            logger.warning(
                "broker unavailable: %s%r not published; its sweeper or periodic run will do it",
                task.name,
                args,
                exc_info=True,
            )
            return False
    return True


def task_publish_on_commit(task: Task, *args: Any, **options: Any) -> None:
    """Publish once the current transaction commits (at once outside one); see task_publish."""
    transaction.on_commit(partial(task_publish, task, *args, **options))
