"""Higher apps react to what happens to messages without channels importing them.

An app registers a callback from its AppConfig.ready(); callbacks run after the change commits,
with plain values only, and one failing never hides the change from the others (campaigns'
journeys resume runs waiting for a message to be opened, or for the customer's reply).
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

# fn(message_id, status, source, source_ref, customer_id)
MessageStatusListener = Callable[[int, str, str, str, int], None]
# fn(inbound_id, customer_id, channel)
InboundListener = Callable[[int, int, str], None]
# fn(conversation_id, customer_id, channel, resolved_at as ISO 8601: one close of it)
ConversationClosedListener = Callable[[int, int, str, str], None]

_status_listeners: list[MessageStatusListener] = []
_inbound_listeners: list[InboundListener] = []
_closed_listeners: list[ConversationClosedListener] = []


def on_message_status(fn: MessageStatusListener) -> MessageStatusListener:
    if fn not in _status_listeners:
        _status_listeners.append(fn)
    return fn


def on_inbound(fn: InboundListener) -> InboundListener:
    if fn not in _inbound_listeners:
        _inbound_listeners.append(fn)
    return fn


def on_conversation_closed(fn: ConversationClosedListener) -> ConversationClosedListener:
    """Analytics sends a CSAT survey when a support conversation is closed."""
    if fn not in _closed_listeners:
        _closed_listeners.append(fn)
    return fn


def _after_commit(listeners: list, args: tuple, what: str) -> None:
    if not listeners:
        return

    def run() -> None:
        for fn in list(listeners):
            try:
                fn(*args)
            except Exception:  # one app's failure must not hide the change from the others
                logger.exception("%s listener %r failed", what, fn)

    transaction.on_commit(run)


def message_status_changed(message) -> None:
    _after_commit(
        _status_listeners,
        (message.pk, message.status, message.source, message.source_ref, message.customer_id),
        "message status",
    )


def inbound_received(inbound) -> None:
    _after_commit(_inbound_listeners, (inbound.pk, inbound.customer_id, inbound.channel), "inbound")


def conversation_closed(conversation) -> None:
    _after_commit(
        _closed_listeners,
        (
            conversation.pk,
            conversation.customer_id,
            conversation.channel,
            conversation.resolved_at.isoformat(),
        ),
        "conversation closed",
    )
