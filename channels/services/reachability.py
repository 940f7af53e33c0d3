"""Which channels an agent can write to a customer on right now, and the agent's send.

The same rules as `send_decision` (policy.py), read for all channels at once so the composer
offers only what would go out: an address, consent (an agent's message is transactional, so only
an opt-out stops it, except on WhatsApp, which needs an opt-in), and on WhatsApp the 24-hour
customer service window, outside which only an approved template may be sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.audit import audit_record
from api.models import AuditAction
from channels.models import (
    Conversation,
    InboundMessage,
    Message,
    MessageCategory,
    MessageSource,
)
from channels.services.messages import message_send
from channels.services.policy import WHATSAPP_SESSION_WINDOW
from customers.models import Channel, ChannelIdentity, Consent, ConsentStatus, Customer
from customers.normalize import normalize_address

# Channels an agent writes on, in the order the composer offers them.
AGENT_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.TELEGRAM, Channel.VIBER, Channel.EMAIL)
BODY_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Reach:
    channel: str
    address: str = ""
    reachable: bool = False
    why_not: str = ""  # no_address | bad_address | opted_out | needs_opt_in | no_templates | erased
    templates_only: bool = False  # WhatsApp outside the 24-hour window
    window_ends_at: datetime | None = None  # WhatsApp inside the window
    templates: list[dict] = field(default_factory=list)


def whatsapp_templates() -> list[dict]:
    """The approved templates from settings.WHATSAPP_TEMPLATES, the malformed ones left out."""
    out = []
    for item in getattr(settings, "WHATSAPP_TEMPLATES", None) or []:
        if isinstance(item, dict) and item.get("name") and item.get("language"):
            params = item.get("params") or []
            out.append(
                {
                    "name": str(item["name"]),
                    "language": str(item["language"]),
                    "params": [str(p) for p in params] if isinstance(params, list) else [],
                }
            )
    return out


def _addresses(customer: Customer) -> dict[str, str]:
    newest: dict[str, str] = {}
    for channel, address in (
        ChannelIdentity.objects.filter(customer=customer)
        .order_by("created_at", "pk")
        .values_list("channel", "address")
    ):
        newest[channel] = address  # the newest identity per channel wins, as in address_for
    if customer.email:
        newest[Channel.EMAIL] = customer.email
    for channel in (Channel.SMS, Channel.WHATSAPP):
        if customer.phone and channel not in newest:
            newest[channel] = customer.phone
    return newest


def customer_reachable_channels(customer: Customer, *, now: datetime | None = None) -> list[Reach]:
    """Every agent channel with whether this customer can be written to on it now, and why not."""
    now = now or timezone.now()
    if customer.erased_at is not None:
        return [Reach(channel=c, why_not="erased") for c in AGENT_CHANNELS]
    addresses = _addresses(customer)
    consents = dict(Consent.objects.filter(customer=customer).values_list("channel", "status"))
    last_whatsapp = (
        InboundMessage.objects.filter(customer=customer, channel=Channel.WHATSAPP)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    out = []
    for channel in AGENT_CHANNELS:
        raw = addresses.get(channel, "")
        if not raw:
            out.append(Reach(channel=channel, why_not="no_address"))
            continue
        try:
            address = normalize_address(channel, raw)
        except ValueError:
            out.append(Reach(channel=channel, address=raw, why_not="bad_address"))
            continue
        status = consents.get(channel, ConsentStatus.UNKNOWN)
        if status == ConsentStatus.OPTED_OUT:
            out.append(Reach(channel=channel, address=address, why_not="opted_out"))
            continue
        if channel != Channel.WHATSAPP:
            out.append(Reach(channel=channel, address=address, reachable=True))
            continue
        if status != ConsentStatus.OPTED_IN:
            out.append(Reach(channel=channel, address=address, why_not="needs_opt_in"))
            continue
        if last_whatsapp is not None and last_whatsapp > now - WHATSAPP_SESSION_WINDOW:
            out.append(
                Reach(
                    channel=channel,
                    address=address,
                    reachable=True,
                    window_ends_at=last_whatsapp + WHATSAPP_SESSION_WINDOW,
                )
            )
            continue
        templates = whatsapp_templates()
        out.append(
            Reach(
                channel=channel,
                address=address,
                reachable=bool(templates),
                why_not="" if templates else "no_templates",
                templates_only=True,
                templates=templates,
            )
        )
    return out


class SendRefused(ValueError):
    """The agent's message cannot go as asked. Its argument is a code for the agent's form:
    unreachable | template_required | template_params | empty | subject."""

    @property
    def code(self) -> str:
        return self.args[0]


def agent_message_send(
    *,
    customer: Customer,
    channel: str,
    body: str = "",
    subject: str = "",
    template: str = "",
    template_params: list[str] | None = None,
    actor,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> Message:
    """An agent's message to a customer from the customer page, through `message_send`
    (transactional, source "agent"), in the customer's open conversation on that channel if
    there is one, and audited ("message.sent") in the same transaction.

    Raises SendRefused when the channel is not reachable now or the message is incomplete.
    """
    now = now or timezone.now()
    reach = {r.channel: r for r in customer_reachable_channels(customer, now=now)}.get(channel)
    if reach is None or not reach.reachable:
        raise SendRefused("unreachable")
    body = body.strip()[:BODY_MAX_LENGTH]
    subject = subject.strip()[:200]
    payload: dict = {}
    if reach.templates_only or (channel == Channel.WHATSAPP and template):
        chosen = next((t for t in whatsapp_templates() if t["name"] == template), None)
        if chosen is None:
            raise SendRefused("template_required")
        params = [p.strip() for p in (template_params or [])]
        if len(params) < len(chosen["params"]) or any(
            not p for p in params[: len(chosen["params"])]
        ):
            raise SendRefused("template_params")
        payload["template"] = {
            "name": chosen["name"],
            "language": chosen["language"],
            "params": params[: len(chosen["params"])],
        }
        body = body or f"[{chosen['name']}] " + " · ".join(payload["template"]["params"])
    elif not body:
        raise SendRefused("empty")
    if channel == Channel.EMAIL and not subject:
        raise SendRefused("subject")
    conversation = (
        Conversation.objects.filter(
            customer=customer,
            channel=channel,
            status__in=[Conversation.Status.OPEN, Conversation.Status.PENDING],
        )
        .order_by("-last_message_at")
        .first()
    )
    with transaction.atomic():
        message = message_send(
            customer=customer,
            channel=channel,
            category=MessageCategory.TRANSACTIONAL,
            source=MessageSource.AGENT,
            body=body,
            subject=subject,
            payload=payload,
            source_ref=actor.get_username()[:100],
            conversation=conversation,
            now=now,
        )
        if conversation is not None:
            Conversation.objects.filter(pk=conversation.pk, last_message_at__lt=now).update(
                last_message_at=now
            )
        audit_record(
            actor=actor,
            action=AuditAction.MESSAGE_SENT,
            object_type="message",
            object_id=message.pk,
            object_repr=f"{channel} message to customer {customer.external_id}",
            customer_id=customer.pk,
            after={"channel": channel, "status": message.status, "template": template or None},
            ip_address=ip_address,
        )
    return message
