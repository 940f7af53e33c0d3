"""What the public links and the ESP tracking webhooks do: record opens and clicks, unsubscribe,
save the preference page, and apply anymail's normalised tracking events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from channels.models import Message, MessageStatus
from channels.services.status import message_status_apply, message_status_apply_by_provider_id
from channels.tracking.links import tracked_content, with_unsubscribe_link
from customers.models import Channel, ChannelIdentity, ConsentStatus, Customer
from customers.services.consents import consent_set, consents_set

logger = logging.getLogger(__name__)

ONE_CLICK_SOURCE = "unsubscribe:one-click"
PREFERENCE_PAGE_SOURCE = "preference_page"

# anymail's normalised event types → Kaskad message statuses. Left out on purpose: queued and
# sent (we knew that when the ESP accepted it), deferred (the ESP is still trying), autoresponded,
# subscribed and unknown (they say nothing about delivery).
ESP_EVENT_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "opened": MessageStatus.OPENED,
    "clicked": MessageStatus.CLICKED,
    "bounced": MessageStatus.BOUNCED,
    "rejected": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
# Events that mean "stop emailing me": a spam complaint or the ESP's own unsubscribe.
ESP_OPT_OUT_EVENTS = frozenset({"complained", "unsubscribed"})


def message_tracking_apply(message: Message) -> Message:
    """Rewrite a stored message's links into click links (and add the pixel to HTML email)."""
    body, html = tracked_content(message)
    if (body, html) != (message.body, message.html):
        message.body, message.html = body, html
        Message.objects.filter(pk=message.pk).update(body=body, html=html)
    return message


def message_unsubscribe_link_apply(message: Message) -> Message:
    """For messages sent without click tracking: only the unsubscribe placeholder is replaced."""
    body = with_unsubscribe_link(message.pk, message.body)
    html = with_unsubscribe_link(message.pk, message.html)
    if (body, html) != (message.body, message.html):
        message.body, message.html = body, html
        Message.objects.filter(pk=message.pk).update(body=body, html=html)
    return message


def message_open_record(*, message_id: int, occurred_at: datetime | None = None) -> bool:
    return message_status_apply(
        message_id=message_id,
        status=MessageStatus.OPENED,
        occurred_at=occurred_at,
        source="pixel",
    )


def message_click_record(*, message_id: int, url: str, occurred_at: datetime | None = None) -> bool:
    return message_status_apply(
        message_id=message_id,
        status=MessageStatus.CLICKED,
        occurred_at=occurred_at,
        reason=url,
        source="click",
    )


# The languages of the pages a customer reaches from a message (preferences, unsubscribe).
CUSTOMER_LANGUAGES = ("en", "ru", "ro")
CUSTOMER_DEFAULT_LANGUAGE = "en"


def customer_language(locale: str) -> str:
    """The page language for a customer's locale: "ru-RU" → "ru", "ro_MD" → "ro"; else English.

    Customer-facing pages follow the customer, never the browser or a staff member's choice.
    """
    language = (locale or "").replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in CUSTOMER_LANGUAGES else CUSTOMER_DEFAULT_LANGUAGE


def message_customer_locale(message_id: int) -> str | None:
    """The locale of the message's customer ("" if unknown), or None if the message is gone."""
    row = Message.objects.filter(pk=message_id).values_list("customer__locale", flat=True).first()
    return None if row is None else row


@transaction.atomic
def unsubscribe_one_click(*, message_id: int) -> Message | None:
    """Opt the message's customer out of the message's channel. None if the message is gone."""
    message = Message.objects.select_related("customer").filter(pk=message_id).first()
    if message is None:
        return None
    consent_set(
        customer=message.customer,
        channel=message.channel,
        status=ConsentStatus.OPTED_OUT,
        source=ONE_CLICK_SOURCE,
    )
    return message


@dataclass(frozen=True)
class ChannelPreference:
    channel: str
    label: str
    opted_in: bool
    status: str
    address: str  # the address we hold on this channel, masked for display; "" if none


def _masked(address: str) -> str:
    """Enough of the address to recognise it, not enough to harvest it from a forwarded link."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:2]}…@{domain}"
    if len(address) > 4:
        return f"…{address[-4:]}"
    return address


def customer_preferences(customer: Customer) -> list[ChannelPreference]:
    """Every channel with the customer's current consent, for the preference page."""
    statuses = dict(customer.consents.values_list("channel", "status"))
    addresses: dict[str, str] = {}
    for channel, address in ChannelIdentity.objects.filter(customer=customer).values_list(
        "channel", "address"
    ):
        addresses.setdefault(channel, address)
    return [
        ChannelPreference(
            channel=channel,
            label=str(label),
            opted_in=statuses.get(channel) == ConsentStatus.OPTED_IN,
            status=statuses.get(channel, ConsentStatus.UNKNOWN),
            address=_masked(addresses.get(channel, "")),
        )
        for channel, label in Channel.choices
    ]


@transaction.atomic
def preferences_save(*, customer: Customer, opted_in: set[str]) -> list[str]:
    """Apply the preference form: ticked channels become opted in, channels the customer untick
    become opted out. An unticked channel that was never opted in stays as it was: leaving a box
    empty is not a refusal of transactional messages on a channel nobody asked about.
    All channels change together or none do. Returns the channels that changed."""
    statuses = {}
    for pref in customer_preferences(customer):
        wants = pref.channel in opted_in
        if wants and not pref.opted_in:
            statuses[pref.channel] = ConsentStatus.OPTED_IN
        elif not wants and pref.opted_in:
            statuses[pref.channel] = ConsentStatus.OPTED_OUT
    return consents_set(customer=customer, statuses=statuses, source=PREFERENCE_PAGE_SOURCE)


def esp_tracking_event_apply(
    *,
    event_type: str,
    provider_message_id: str | None,
    occurred_at: datetime | None = None,
    reason: str = "",
    recipient: str | None = None,
    esp_name: str = "",
) -> bool:
    """Apply one of anymail's normalised tracking events to the email it is about.

    Returns True if a message's status changed. Events for messages that are not ours (or were
    erased) are ignored; repeated events change nothing, as statuses only move forward.
    """
    changed = False
    status = ESP_EVENT_STATUS.get(event_type)
    if status and provider_message_id:
        changed = message_status_apply_by_provider_id(
            provider="email",
            provider_message_id=provider_message_id,
            status=status,
            occurred_at=occurred_at,
            reason=reason,
        )
    if event_type in ESP_OPT_OUT_EVENTS:
        customer = _email_customer(provider_message_id, recipient)
        if customer is not None:
            consent_set(
                customer=customer,
                channel=Channel.EMAIL,
                status=ConsentStatus.OPTED_OUT,
                source=f"esp:{esp_name.lower() or 'email'}:{event_type}",
            )
        else:
            logger.info("%s %s for an email we do not know; ignored", esp_name, event_type)
    return changed


def _email_customer(provider_message_id: str | None, recipient: str | None) -> Customer | None:
    if provider_message_id:
        message = (
            Message.objects.select_related("customer")
            .filter(provider="email", provider_message_id=provider_message_id)
            .first()
        )
        if message is not None:
            return message.customer
    if recipient:
        identity = (
            ChannelIdentity.objects.select_related("customer")
            .filter(channel=Channel.EMAIL, address=recipient.strip().lower())
            .first()
        )
        if identity is not None:
            return identity.customer
    return None
