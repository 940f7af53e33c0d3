"""Celery tasks of the campaigns app: each subpackage's tasks, imported so autodiscovery finds them."""

from campaigns.broadcasts.tasks import broadcast_chunk_send, broadcasts_tick  # noqa: F401
from campaigns.journeys.tasks import (  # noqa: F401
    journey_events_signal,
    journey_message_signal,
    journey_opt_out_signal,
    journey_orders_signal,
    journey_reply_signal,
    journey_segment_signal,
    journeys_advance_due,
    journeys_tick,
)
from campaigns.promo.tasks import promo_expire_codes_task, promo_settle_codes_task  # noqa: F401
from campaigns.recommendations.tasks import refresh_recommendations  # noqa: F401
