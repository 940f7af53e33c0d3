"""A test send from Settings → Channels: one transactional message to an address staff choose.

It goes the way every message goes (`message_send`, the delivery task, the channel's provider
chain), so it proves the configuration end to end. The messages belong to one system customer,
`kaskad:test-sends`, so no real customer's timeline or frequency cap is touched.
"""

from __future__ import annotations

from django.db import transaction

from channels.models import Message, MessageCategory, MessageSource
from channels.services.messages import message_send
from customers.models import Channel, Customer
from customers.normalize import normalize_address

TEST_CUSTOMER_EXTERNAL_ID = "kaskad:test-sends"
# Push needs a browser's subscription keys and voice is not a message channel: neither can be
# sent to a typed address.
TEST_SEND_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.TELEGRAM, Channel.VIBER)
# WhatsApp allows free text only inside a customer's 24-hour window; Meta gives every business
# account this approved template for tests.
WHATSAPP_TEST_TEMPLATE = {"name": "hello_world", "language": "en_US"}


def customer_for_test_sends() -> Customer:
    customer, _created = Customer.objects.get_or_create(
        external_id=TEST_CUSTOMER_EXTERNAL_ID,
        defaults={"first_name": "Kaskad", "last_name": "test sends"},
    )
    return customer


def channel_test_send(*, channel: str, address: str, body: str) -> Message:
    """Queue one test message. ValueError (fit for a form) for a channel or address it refuses."""
    if channel not in TEST_SEND_CHANNELS:
        raise ValueError(f"a test send is not possible on {channel}")
    address = normalize_address(channel, address)
    payload = {"track": False}
    if channel == Channel.WHATSAPP:
        payload["template"] = WHATSAPP_TEST_TEMPLATE
    with transaction.atomic():
        return message_send(
            customer=customer_for_test_sends(),
            channel=channel,
            category=MessageCategory.TRANSACTIONAL,
            source=MessageSource.SYSTEM,
            body=body,
            subject=body[:60] if channel == Channel.EMAIL else "",
            payload=payload,
            source_ref="settings:test_send",
            address=address,
        )
