"""A demo broadcast, sent ten days ago through the services: an A/B test on the subject line with
a 10 % holdout, the winner sent to the rest, and the customers' reactions since (deliveries,
opens, clicks and orders within the conversion window) recorded the way the gateways, the
tracking links and the shop's order sync record them. Deterministic (fixed seed)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from campaigns.broadcasts.models import Broadcast, BroadcastRecipient, RecipientState
from campaigns.broadcasts.services.launch import broadcast_launch
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.sending import broadcast_chunk_send
from campaigns.broadcasts.services.setup import VariantSpec, broadcast_create
from campaigns.broadcasts.services.tick import broadcast_winner_choose
from campaigns.message_templates.models import Template
from campaigns.message_templates.services import template_create
from channels.models import Message, MessageStatus
from channels.services.delivery import messages_deliver
from channels.services.status import message_status_apply
from channels.tracking.services import message_click_record, message_open_record
from customers.api.schemas import OrderIn
from customers.models import Customer, Segment
from customers.services.orders import order_upsert_batch
from customers.services.segments import segment_create, segment_refresh

NAME = "Чёрная пятница: A/B темы письма"
SEGMENT = "Подписчики email"
HTML = """<h1>{{ customer.first_name | default: "Друзья" }}, Чёрная пятница!</h1>
<p>Скидки до 50% на всё до воскресенья.</p>
<p><a href="https://shop.example.com/black-friday">Выбрать подарки</a></p>
<p><small><a href="{{ preferences_url }}">Настроить рассылки</a></small></p>"""
# Per variant: chance to open, to click once opened, to order within the window (and holdout).
REACTIONS = {"A": (0.38, 0.12, 0.06), "B": (0.47, 0.19, 0.09), "holdout": (0, 0, 0.035)}


def _segment() -> Segment:
    segment = Segment.objects.filter(name=SEGMENT).first()
    if segment is None:
        segment = segment_create(
            name=SEGMENT,
            kind=Segment.Kind.DYNAMIC,
            rules={"reachable": "email"},
            description="Все, кому можно написать на email.",
        )
    segment_refresh(segment=segment)
    return segment


def _template() -> Template:
    template = Template.objects.filter(name=NAME).first()
    if template is None:
        template = template_create(
            name=NAME,
            category="marketing",
            variants={
                "email": {
                    "subject": "{{ customer.first_name | default: 'Друзья' }}, скидки до 50%",
                    "html": HTML,
                }
            },
        )
    return template


def _run_chunks(broadcast: Broadcast, now) -> None:
    ids = list(
        BroadcastRecipient.objects.filter(broadcast=broadcast, state=RecipientState.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        broadcast_chunk_send(broadcast.pk, part[0], part[-1], now=now)


def _react(broadcast: Broadcast, key: str, group: str, since, rng: random.Random) -> list[OrderIn]:
    """The sandbox gateway sends, reports delivery; customers open and click; some buy."""
    p_open, p_click, p_order = REACTIONS[key]
    orders = []
    recipients = BroadcastRecipient.objects.filter(broadcast=broadcast, group=group)
    if group != "holdout":
        recipients = recipients.filter(variant__key=key, state=RecipientState.QUEUED)
    for recipient in recipients.order_by("id"):
        at = since + timedelta(minutes=rng.randint(1, 30))
        message = Message.objects.filter(pk=recipient.message_id).first()
        if message is not None:
            at = max(at, message.send_after or at)  # quiet hours held it till the morning
            messages_deliver([message.pk], now=at)
            # Delivery stamps the real clock (a send is never in the past); the demo's story
            # happened ten days ago, so its send time is set back to the story's.
            Message.objects.filter(pk=message.pk).update(sent_at=at)
            message_status_apply(
                message_id=message.pk, status=MessageStatus.DELIVERED, occurred_at=at
            )
            if rng.random() < p_open:
                at += timedelta(minutes=rng.randint(5, 600))
                message_open_record(message_id=message.pk, occurred_at=at)
                if rng.random() < p_click:
                    message_click_record(
                        message_id=message.pk,
                        url="https://shop.example.com/black-friday",
                        occurred_at=at + timedelta(minutes=1),
                    )
        if rng.random() < p_order:
            orders.append(
                OrderIn(
                    external_id=f"demo-bf-{broadcast.pk}-{recipient.customer_id}",
                    customer_external_id=Customer.objects.get(pk=recipient.customer_id).external_id,
                    status="completed",
                    placed_at=at + timedelta(hours=rng.randint(1, 72)),
                    total=Decimal(rng.choice(["2490.00", "3990.00", "5490.00", "12990.00"])),
                    currency="RUB",
                )
            )
    return orders


def broadcasts_demo_load() -> Broadcast | None:
    """Idempotent: a second run finds the broadcast and leaves it as it is. Only with the
    sandbox gateway (MESSAGING_SANDBOX, on with DEBUG): a demo must never email anyone."""
    if not settings.MESSAGING_SANDBOX:
        return None
    existing = Broadcast.objects.filter(name=NAME).first()
    if existing is not None:
        return existing
    rng = random.Random(20261127)
    template = _template()
    launched = timezone.now() - timedelta(days=10)
    broadcast = broadcast_create(
        name=NAME,
        template=template,
        segment=_segment(),
        channel="email",
        holdout_percent=10,
        test_percent=40,
        ab_metric="clicked",
        test_hours=4,
        conversion_days=7,
        variants=[
            VariantSpec(),
            VariantSpec(subject="Только 3 дня: скидки до 50% на всё"),
        ],
    )
    broadcast = broadcast_launch(broadcast, now=launched)
    _run_chunks(broadcast, launched)
    orders = []
    for key in ("A", "B"):
        orders += _react(broadcast, key, "test", launched, rng)
    decided = launched + timedelta(hours=broadcast.test_hours)
    broadcast = broadcast_winner_choose(broadcast, now=decided)
    _run_chunks(broadcast, decided)
    orders += _react(broadcast, broadcast.winner.key, "main", decided, rng)
    orders += _react(broadcast, "holdout", "holdout", launched, rng)
    orders = list({o.external_id: o for o in orders}.values())
    for start in range(0, len(orders), 500):
        order_upsert_batch(items=orders[start : start + 500], source="demo")
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status="sent", finished_at=decided + timedelta(minutes=10)
    )
    broadcast.refresh_from_db()
    broadcast_stats_refresh(broadcast)
    return broadcast
