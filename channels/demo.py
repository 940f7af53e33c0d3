"""Demo data for channels, loaded by `make run` after the customers demo: auto-reply rules, quiet
hours, a campaign-like batch of messages (sent by the worker to the sandbox outbox), inbound
messages that open conversations, and a few calls. Everything goes through the real services.
"""

from dataclasses import dataclass
from datetime import time, timedelta

from django.utils import timezone

from channels.models import AutoReplyRule, CannedResponse, DeliverySettings
from channels.services.calls import CallEvent, call_event_record
from channels.services.inbound import inbound_receive
from channels.services.messages import message_send
from customers.demo.reference import DEMO_PREFIX
from customers.models import ChannelIdentity, Consent, ConsentStatus, Customer

DEMO_RULE_PREFIX = "Demo: "
DEMO_SENDS = 120
DEMO_CONVERSATIONS = 8


@dataclass(frozen=True)
class ChannelsDemoResult:
    loaded: bool
    messages: int = 0
    conversations: int = 0
    calls: int = 0


def channels_demo_load() -> ChannelsDemoResult:
    if AutoReplyRule.objects.filter(name__startswith=DEMO_RULE_PREFIX).exists():
        return ChannelsDemoResult(loaded=False)
    _rules()
    settings_row = DeliverySettings.objects.order_by("pk").first() or DeliverySettings()
    settings_row.quiet_hours_start, settings_row.quiet_hours_end = time(21), time(9)
    settings_row.save()
    messages = _campaign()
    conversations = _conversations()
    calls = _calls()
    _canned()
    return ChannelsDemoResult(True, messages, conversations, calls)


def _canned() -> None:
    """A few canned responses, so the inbox's "/" shortcodes work in the demo."""
    for shortcode, body in [
        ("thanks", "Спасибо за обращение! Мы ответим в течение часа."),
        ("delivery", "Доставка по Москве — 1–2 дня, по России — 3–7 дней."),
        ("return", "Вернуть товар можно в течение 14 дней: оформите возврат в личном кабинете."),
    ]:
        CannedResponse.objects.get_or_create(shortcode=shortcode, defaults={"body": body})


def _rules() -> None:
    AutoReplyRule.objects.bulk_create(
        [
            AutoReplyRule(
                name=f"{DEMO_RULE_PREFIX}delivery question",
                match=AutoReplyRule.Match.KEYWORD,
                pattern="доставка, доставку, delivery, курьер",
                reply="Доставка по Москве — 1–2 дня, по России — 3–7 дней. Статус заказа: "
                "https://shop.example/orders",
                priority=10,
            ),
            AutoReplyRule(
                name=f"{DEMO_RULE_PREFIX}order status",
                match=AutoReplyRule.Match.PATTERN,
                pattern=r"(где|статус).{0,20}заказ|order\s+status",
                reply="Проверить заказ можно по ссылке https://shop.example/orders — "
                "или напишите номер заказа, и оператор ответит.",
                priority=20,
            ),
            AutoReplyRule(
                name=f"{DEMO_RULE_PREFIX}out of hours",
                match=AutoReplyRule.Match.OUT_OF_HOURS,
                reply="Мы работаем с 9:00 до 21:00 по Москве. Ответим утром!",
                opens_at=time(9),
                closes_at=time(21),
                business_days=[0, 1, 2, 3, 4, 5],
                timezone="Europe/Moscow",
                priority=100,
            ),
        ]
    )


def _opted_in(channel: str, limit: int) -> list[Customer]:
    ids = Consent.objects.filter(
        channel=channel,
        status=ConsentStatus.OPTED_IN,
        customer__external_id__startswith=DEMO_PREFIX,
        customer__identities__channel=channel,
    ).values_list("customer_id", flat=True)[:limit]
    return list(Customer.objects.filter(pk__in=list(ids)).order_by("pk"))


def _campaign() -> int:
    """The autumn sale to opted-in demo customers; outside their quiet hours it goes at once,
    inside them it waits for the morning (send_after), as a real campaign would."""
    sent = 0
    for customer in _opted_in("email", DEMO_SENDS // 2):
        message_send(
            customer=customer,
            channel="email",
            category="marketing",
            source="campaign",
            source_ref="demo:autumn-sale",
            subject="Осенняя распродажа: −20 % до воскресенья",
            body="Скидка 20 % на всё до воскресенья: https://shop.example/sale",
            html='<p>Скидка 20 % на всё до воскресенья.</p><p><a href="https://shop.example/sale">'
            "Смотреть товары</a></p>",
        )
        sent += 1
    for customer in _opted_in("sms", DEMO_SENDS // 2):
        message_send(
            customer=customer,
            channel="sms",
            category="marketing",
            source="campaign",
            source_ref="demo:autumn-sale",
            body="Скидка 20 % до воскресенья: https://shop.example/sale",
        )
        sent += 1
    return sent


def _conversations() -> int:
    texts = ["Здравствуйте! Сколько идёт доставка в Казань?", "Где мой заказ 10452?", "СТОП"]
    identities = ChannelIdentity.objects.filter(
        channel__in=["telegram", "sms"], customer__external_id__startswith=DEMO_PREFIX
    ).order_by("pk")[:DEMO_CONVERSATIONS]
    now = timezone.now()
    opened = 0
    for i, identity in enumerate(identities):
        inbound = inbound_receive(
            channel=identity.channel,
            provider="sandbox",
            address=identity.address,
            body=texts[i % len(texts)],
            provider_message_id=f"demo-inbound-{identity.pk}",
            payload={},
            received_at=now - timedelta(minutes=5 * i),
        )
        opened += bool(inbound and inbound.conversation_id)
    return opened


def _calls() -> int:
    customers = Customer.objects.filter(external_id__startswith=DEMO_PREFIX).exclude(phone="")[:5]
    now = timezone.now()
    for i, customer in enumerate(customers):
        call_event_record(
            event=CallEvent(
                provider="demo",
                call_id=f"demo-call-{customer.pk}",
                direction="inbound",
                status="completed",
                from_number=customer.phone,
                to_number="+74951234567",
                started_at=now - timedelta(hours=i + 1),
                duration_seconds=60 + 37 * i,
            )
        )
    return len(customers)
