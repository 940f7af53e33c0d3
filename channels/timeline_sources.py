"""What channels/ adds to the customer timeline: messages sent, messages received, calls."""

from channels.models import CallLog, InboundMessage, Message
from customers.timeline import TimelineEntry, TimelineSource, register_timeline_source


def _message_entry(message: Message) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=message.queued_at,
        kind="message",
        id=message.pk,
        title=f"{message.get_channel_display()} {message.category} message: {message.status}",
        data={
            "channel": message.channel,
            "provider": message.provider,
            "address": message.address,
            "subject": message.subject,
            "body": message.body[:500],
            "category": message.category,
            "source": message.source,
            "source_ref": message.source_ref,
            "status": message.status,
            "status_reason": message.status_reason,
            "conversation_id": message.conversation_id,
            **{
                f"{status}_at": value.isoformat() if value else None
                for status, value in (
                    ("sent", message.sent_at),
                    ("delivered", message.delivered_at),
                    ("opened", message.opened_at),
                    ("clicked", message.clicked_at),
                    ("failed", message.failed_at),
                )
            },
        },
    )


def _inbound_entry(inbound: InboundMessage) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=inbound.received_at,
        kind="inbound_message",
        id=inbound.pk,
        title=f"{inbound.get_channel_display()} from the customer: {inbound.body[:60]}",
        data={
            "channel": inbound.channel,
            "provider": inbound.provider,
            "address": inbound.address,
            "body": inbound.body,
            "conversation_id": inbound.conversation_id,
        },
    )


def _call_entry(call: CallLog) -> TimelineEntry:
    minutes = (
        f", {call.duration_seconds // 60}:{call.duration_seconds % 60:02d}"
        if call.duration_seconds
        else ""
    )
    return TimelineEntry(
        occurred_at=call.started_at,
        kind="call",
        id=call.pk,
        title=f"{call.get_direction_display()} call: {call.status}{minutes}",
        data={
            "direction": call.direction,
            "phone": call.phone,
            "status": call.status,
            "duration_seconds": call.duration_seconds,
            "recording_url": call.recording_url,
            "provider": call.provider,
        },
    )


def register() -> None:
    register_timeline_source(
        TimelineSource(
            kind="message",
            rows_for_customer=lambda customer_id: Message.objects.filter(customer_id=customer_id),
            time_field="queued_at",
            to_entry=_message_entry,
            channel_field="channel",
        )
    )
    register_timeline_source(
        TimelineSource(
            kind="inbound_message",
            rows_for_customer=lambda customer_id: InboundMessage.objects.filter(
                customer_id=customer_id
            ),
            time_field="received_at",
            to_entry=_inbound_entry,
            channel_field="channel",
        )
    )
    register_timeline_source(
        TimelineSource(
            kind="call",
            rows_for_customer=lambda customer_id: CallLog.objects.filter(customer_id=customer_id),
            time_field="started_at",
            to_entry=_call_entry,
            channel="voice",
        )
    )
