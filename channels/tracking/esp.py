"""The receiver of anymail's `tracking` signal: every ESP's webhook, once anymail has checked its
auth and normalised it, lands here and becomes a Kaskad message status (or an email opt-out).

Connected when channels.hooks.email is imported, which happens when the URLconf that routes the
webhooks loads, so no webhook can arrive before the receiver is there.
"""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver

from api.types import check_datetime
from channels.hooks.common import Malformed, bounded_text
from channels.tracking.services import esp_tracking_event_apply

# An ESP's message id, recipient or bounce text longer than this is not one.
MAX_FIELD_LENGTH = 10_000


def _reason(event: AnymailTrackingEvent) -> str:
    if event.event_type == "clicked" and event.click_url:
        return event.click_url
    # The MTA's words ("550 5.1.1 no such user") say more than the ESP's summary.
    parts = [event.reject_reason or "", event.mta_response or event.description or ""]
    return ": ".join(part for part in parts if part)


@receiver(tracking, dispatch_uid="kaskad.channels.email_tracking")
def email_tracking_received(
    sender, event: AnymailTrackingEvent, esp_name: str = "", **kwargs
) -> None:
    message_id = event.message_id
    if message_id is not None and not isinstance(message_id, str):
        message_id = str(message_id)
    # anymail normalised the ESP's body but checked nothing a database refuses; raising Malformed
    # makes the webhook view answer 400 and roll back the batch's earlier events.
    occurred_at = event.timestamp
    if occurred_at is not None:
        try:
            occurred_at = check_datetime(occurred_at)
        except ValueError as exc:
            raise Malformed("timestamp", str(exc)) from None
    fields = {"message_id": message_id, "recipient": event.recipient, "reason": _reason(event)}
    for field, value in fields.items():
        if value is not None:
            bounded_text(value, field, max_length=MAX_FIELD_LENGTH, required=False)
    esp_tracking_event_apply(
        event_type=str(event.event_type),
        provider_message_id=message_id,
        occurred_at=occurred_at,
        reason=fields["reason"],
        recipient=event.recipient,
        esp_name=esp_name,
    )
