"""Inbound messages: what customers write to us on any channel.

Every provider's webhook view calls `inbound_receive()`. It finds (or creates) the customer,
stores the message once whatever the gateway repeats, handles the STOP / START keywords, files
the message in a conversation, and answers automatically when a rule says so.

Unknown senders: an address no customer has becomes a new customer with external id
`"{channel}:{address}"` (e.g. `sms:+79161234567`), the address as their identity on that channel
(and, for SMS and WhatsApp, as their profile phone), and no consent recorded (unknown). The CRM
can later merge or re-key them through the API.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.listeners import inbound_received
from channels.models import Conversation, InboundMessage, MessageCategory, MessageSource
from channels.services.autoreplies import auto_reply_for, auto_reply_source_ref
from channels.services.conversations import conversation_event_data, conversation_for_inbound
from channels.services.messages import message_send
from channels.services.webhooks_out import webhook_event_emit
from customers.models import Channel, ChannelIdentity, ConsentStatus, Customer
from customers.normalize import normalize_address, normalize_phone
from customers.services.consents import consent_set
from customers.services.identities import identity_bind
from customers.services.segments import segments_refresh_enqueue_for_customers

logger = logging.getLogger(__name__)

PHONE_LOOKUP_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
EXTERNAL_ID_LENGTH = Customer._meta.get_field("external_id").max_length
# The whole message, trimmed and case-insensitive (a trailing "." or "!" is forgiven).
STOP_WORDS = {"stop": "en", "unsubscribe": "en", "стоп": "ru", "отписаться": "ru"}
START_WORDS = {"start": "en", "subscribe": "en", "старт": "ru"}
_TRAILING_PUNCTUATION = re.compile(r"[\s.!]+$")

CONFIRMATIONS = {
    ("stop", "ru"): "Вы отписались от сообщений. Чтобы подписаться снова, отправьте СТАРТ.",
    (
        "stop",
        "en",
    ): "You have unsubscribed and will get no more messages. Reply START to resubscribe.",
    ("start", "ru"): "Вы снова подписаны на сообщения. Чтобы отписаться, отправьте СТОП.",
    ("start", "en"): "You are subscribed again. Reply STOP to unsubscribe.",
}


def inbound_receive(
    *,
    channel: str,
    provider: str,
    address: str,
    body: str,
    provider_message_id: str,
    payload: dict,
    received_at: datetime | None = None,
    customer: Customer | None = None,
) -> InboundMessage | None:
    """Store one inbound message and act on it. Returns None if it was already received.

    `customer` skips the lookup (e.g. a Telegram chat already bound by a deep link).
    Everything is written in one transaction; the auto-reply is sent after it commits, so a
    failing auto-reply never loses the customer's message.
    """
    received_at = received_at or timezone.now()
    # The common repeat is answered without opening a transaction; the unique constraint
    # below settles the race between two deliveries of the same callback.
    if InboundMessage.objects.filter(
        provider=provider, provider_message_id=provider_message_id
    ).exists():
        return None
    address = _normalized(channel, address)
    keyword = inbound_keyword(body)
    try:
        with transaction.atomic():
            if customer is None:
                customer = _customer_for(channel, address, received_at)
            inbound = InboundMessage.objects.create(
                customer=customer,
                channel=channel,
                provider=provider,
                address=address,
                body=body,
                payload=payload,
                provider_message_id=provider_message_id,
                received_at=received_at,
            )
            if keyword:
                _apply_keyword(inbound, keyword)
            else:
                conversation, changed = conversation_for_inbound(
                    customer=customer, channel=channel, at=received_at
                )
                inbound.conversation = conversation
                inbound.save(update_fields=["conversation"])
                if changed:
                    webhook_event_emit(
                        event_type="conversation.updated",
                        data=conversation_event_data(conversation),
                    )
            webhook_event_emit(
                event_type="message.inbound", data=inbound_event_data(inbound, keyword)
            )
            inbound_received(inbound)
            if not keyword:
                transaction.on_commit(lambda: inbound_auto_reply(inbound=inbound), robust=True)
    except IntegrityError:
        if InboundMessage.objects.filter(
            provider=provider, provider_message_id=provider_message_id
        ).exists():
            return None  # the same callback, delivered twice at once: the other one stored it
        raise
    return inbound


def inbound_keyword(body: str) -> tuple[str, str] | None:
    """("stop" | "start", language) if the whole message is a consent keyword."""
    word = _TRAILING_PUNCTUATION.sub("", body.strip()).casefold()
    if word in STOP_WORDS:
        return "stop", STOP_WORDS[word]
    if word in START_WORDS:
        return "start", START_WORDS[word]
    return None


def inbound_auto_reply(*, inbound: InboundMessage) -> None:
    """Answer `inbound` if a rule matches. At most one answer per inbound message, ever: the
    idempotency key makes a repeated call return the first answer."""
    conversation = inbound.conversation
    if conversation is None:
        return
    now = timezone.now()
    rule = auto_reply_for(
        channel=inbound.channel, body=inbound.body, now=now, conversation=conversation
    )
    if rule is None:
        return
    message_send(
        customer=inbound.customer,
        channel=inbound.channel,
        category=MessageCategory.TRANSACTIONAL,
        source=MessageSource.AUTO_REPLY,
        body=rule.reply,
        source_ref=auto_reply_source_ref(rule),
        idempotency_key=f"auto_reply:inbound:{inbound.pk}",
        conversation=conversation,
        address=inbound.address,
        now=now,
    )
    Conversation.objects.filter(pk=conversation.pk, last_message_at__lt=now).update(
        last_message_at=now
    )


def inbound_event_data(inbound: InboundMessage, keyword: tuple[str, str] | None) -> dict[str, Any]:
    """What the `message.inbound` webhook carries."""
    return {
        "id": inbound.pk,
        "customer": inbound.customer.external_id,
        "channel": inbound.channel,
        "provider": inbound.provider,
        "address": inbound.address,
        "body": inbound.body,
        "received_at": inbound.received_at.isoformat(),
        "conversation_id": inbound.conversation_id,
        "keyword": keyword[0] if keyword else None,
    }


def _normalized(channel: str, address: str) -> str:
    try:
        return normalize_address(channel, address)
    except ValueError:
        # A short code or alphanumeric sender is not a valid E.164 number, but what it wrote
        # must still be kept; it is filed under the address as the gateway gave it.
        return address.strip()


def _is_phone(address: str) -> bool:
    try:
        return normalize_phone(address) == address
    except ValueError:
        return False


def _placeholder_external_id(channel: str, address: str) -> str:
    """ "<channel>:<address>", or, when that would not fit the column, a digest of it."""
    external_id = f"{channel}:{address}"
    if len(external_id) <= EXTERNAL_ID_LENGTH:
        return external_id
    return f"{channel}:sha256:{hashlib.sha256(address.encode()).hexdigest()}"


def _customer_for(channel: str, address: str, at: datetime) -> Customer:
    identity = (
        ChannelIdentity.objects.select_related("customer")
        .filter(channel=channel, address=address)
        .first()
    )
    if identity is not None:
        return identity.customer
    customer = None
    if channel in PHONE_LOOKUP_CHANNELS:
        customer = (
            Customer.objects.filter(phone=address, erased_at__isnull=True).order_by("pk").first()
        )
    created = False
    if customer is None:
        customer, created = Customer.objects.get_or_create(
            external_id=_placeholder_external_id(channel, address),
            defaults={
                # Only a real number becomes the profile phone: a short code or a sender name
                # would be found (and messaged) as if it were one.
                "phone": address if channel in PHONE_LOOKUP_CHANNELS and _is_phone(address) else "",
                "email": address if channel == Channel.EMAIL else "",
                "created_at": at,
                "updated_at": at,
                "attributes": {},
            },
        )
        if created:
            # A new customer may match profile rules ("created in the last…", "phone is set").
            segments_refresh_enqueue_for_customers(customer_ids=[customer.pk], kinds={"profile"})
    # Replies and later lookups find the customer by this identity. If a concurrent message or a
    # CRM sync binds the address first, it stays where they put it (move=False), and the message
    # belongs to that customer.
    binding = identity_bind(customer=customer, channel=channel, address=address, move=False)
    if binding.identity.customer_id == customer.pk:
        return customer
    if created:
        customer.delete()  # the placeholder made a moment ago for this number: nothing refers to it
    return binding.identity.customer


def _apply_keyword(inbound: InboundMessage, keyword: tuple[str, str]) -> None:
    """Opt the customer out of (or back into) the channel and confirm it in their language."""
    word, keyword_language = keyword
    customer = inbound.customer
    language = _language(customer, keyword_language)
    status = ConsentStatus.OPTED_OUT if word == "stop" else ConsentStatus.OPTED_IN

    def confirm() -> None:
        message_send(
            customer=customer,
            channel=inbound.channel,
            category=MessageCategory.TRANSACTIONAL,
            source=MessageSource.SYSTEM,
            body=CONFIRMATIONS[(word, language)],
            payload={"consent_confirmation": status},
            source_ref=f"keyword:{inbound.provider}",
            idempotency_key=f"consent_confirmation:inbound:{inbound.pk}",
            address=inbound.address,
        )

    if word == "stop":
        # The confirmation is decided while the customer is still subscribed: the policy
        # refuses anything to an opted-out address, and this one message must still go.
        confirm()
    consent_set(
        customer=customer,
        channel=inbound.channel,
        status=status,
        source=f"keyword:{inbound.provider}",
    )
    if word == "start":
        confirm()


def _language(customer: Customer, fallback: str) -> str:
    locale = (customer.locale or "").lower()
    if locale.startswith("ru"):
        return "ru"
    if locale:
        return "en"
    return fallback  # no locale on file: answer in the language the customer wrote in
