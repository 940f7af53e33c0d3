"""Demo journeys, live on the demo customers: the seeds' promo cascade and loyalty journey, and a
welcome series, made from the library and published through the services.

Their numbers are real: customers are enrolled six days ago and the story is played forward
through the engine with its clock set (the tick's `now`), two hours at a time, up to today. After
each tick the sandbox gateway sends the queued messages and some customers open, click and order
(recorded through the channels' and the shop's services, then handed to the engine at the moment
they happened). Runs end up spread over the steps, some converted, some still waiting.
Deterministic (fixed seed); only with the sandbox gateway; a second load changes nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from campaigns.journeys.library import library_journey_create
from campaigns.journeys.models import OPEN_STATES, Enrollment, Journey
from campaigns.journeys.services.authoring import journey_draft_save, journey_publish
from campaigns.journeys.services.engine import Signal, enrollments_advance
from campaigns.journeys.services.tick import journeys_due_advance
from campaigns.journeys.services.triggers import journey_enrol
from campaigns.journeys.trigger_map import BASE_SEGMENTS
from campaigns.message_templates.models import Template
from campaigns.message_templates.services import template_create
from campaigns.promo.demo import POOL_NAME, SHARED_NAME
from campaigns.promo.models import PromoPool
from channels.models import Message, MessageStatus
from channels.services.delivery import messages_deliver
from channels.services.status import message_status_apply
from customers.api.schemas import OrderIn
from customers.models import Customer, Segment, SegmentMembership
from customers.services.orders import order_upsert_batch
from customers.services.segments import segment_create, segment_refresh

STORY_DAYS = 6
STEP_HOURS = 2
SEED = 20261203
FOOTER = '<p><small><a href="{{ preferences_url }}">Настроить рассылки</a></small></p>'


def _email(subject: str, body: str) -> dict:
    return {"email": {"subject": subject, "html": f"{body}\n{FOOTER}"}}


TEMPLATES = {
    "Каскад: письмо с промокодом": _email(
        "{{ customer.first_name | default: 'Друзья' }}, ваш промокод внутри",
        "<h1>Скидка для вас</h1><p>Промокод <strong>{{ promo.code | default: '' }}</strong>"
        " — {{ promo.discount | default: 'скидка' }}.</p>"
        '<p><a href="https://shop.example.com/sale">Выбрать</a></p>',
    ),
    "Каскад: SMS с промокодом": {
        "sms": {"body": "Ваш код {{ promo.code | default: '' }}: shop.example.com/sale"}
    },
    "Каскад: Telegram с промокодом": {
        "telegram": {
            "title": "Промокод {{ promo.code | default: '' }}",
            "body": "{{ customer.first_name | default: 'Здравствуйте' }}, ваша скидка ждёт вас.",
            "url": "https://shop.example.com/sale",
        }
    },
    "Лояльность: баллы начислены": _email(
        "Вам начислено 500 баллов",
        "<h1>Добро пожаловать в клуб!</h1><p>На вашем счёте 500 приветственных баллов.</p>"
        '<p><a href="https://shop.example.com/club">Потратить баллы</a></p>',
    ),
    "Лояльность: Telegram о баллах": {
        "telegram": {
            "title": "500 баллов на вашем счёте",
            "body": "Оплатите баллами до 30% следующей покупки.",
            "url": "https://shop.example.com/club",
        }
    },
    "Лояльность: баллы сгорают": {
        "sms": {"body": "Ваши баллы сгорят через 3 дня: shop.example.com/club"}
    },
    "Приветствие 2: как мы работаем": _email(
        "Доставка, возврат и бонусы",
        "<h1>Как мы работаем</h1><p>Бесплатная доставка от 3000 ₽, возврат 30 дней.</p>"
        '<p><a href="https://shop.example.com/help">Подробнее</a></p>',
    ),
    "Приветствие: советы": _email(
        "Три совета к вашей покупке",
        "<h1>Спасибо за заказ!</h1><p>Как ухаживать за покупкой и что выбрать ещё.</p>"
        '<p><a href="https://shop.example.com/tips">Советы</a></p>',
    ),
    "Приветствие: скидка на первый заказ": _email(
        "500 ₽ на первый заказ",
        "<h1>Первый заказ со скидкой</h1><p>Код <strong>{{ promo.code | default: '' }}</strong>"
        " даёт 500 ₽ на первый заказ.</p>"
        '<p><a href="https://shop.example.com/new">В каталог</a></p>',
    ),
}
# Chance, per channel, that a delivered message is opened (SMS: the link clicked).
OPEN_CHANCE = {"email": 0.32, "sms": 0.12, "telegram": 0.45, "push": 0.2}
ORDER_CHANCE = 0.3  # after a reaction
DEMO = (  # library key, name, segment name (the one it serves), customers, pool
    (
        "promo_cascade",
        "Каскад с промокодом: email → SMS → Telegram",
        "Lost customers",
        60,
        POOL_NAME,
    ),
    ("loyalty_joined", "Лояльность: вступил в программу", "Active customers", 30, None),
    ("welcome_series", "Приветственная серия", "New customers", 30, SHARED_NAME),
)


def _templates() -> dict[str, int]:
    found = dict(Template.objects.filter(name__in=TEMPLATES).values_list("name", "pk"))
    for name, variants in TEMPLATES.items():
        if name not in found:
            found[name] = template_create(name=name, category="marketing", variants=variants).pk
    welcome = Template.objects.filter(name="Приветственное письмо").values_list("pk", flat=True)
    found["Приветственное письмо"] = welcome.first() or found["Приветствие 2: как мы работаем"]
    return found


def base_segments_ensure() -> dict[str, Segment]:
    """The trigger map's base segments (new, active, at risk, lost), refreshed."""
    found = {}
    for name, rules, note in BASE_SEGMENTS:
        segment = Segment.objects.filter(name=name).first()
        if segment is None:
            segment = segment_create(
                name=name, kind=Segment.Kind.DYNAMIC, rules=rules, description=note
            )
            segment_refresh(segment=segment)
        found[name] = segment
    return found


def _values(key: str, templates: dict[str, int], pool: PromoPool | None, segment) -> dict:
    t = templates
    by_key = {
        "promo_cascade": {
            "email": t["Каскад: письмо с промокодом"],
            "sms": t["Каскад: SMS с промокодом"],
            "messenger": t["Каскад: Telegram с промокодом"],
        },
        "loyalty_joined": {
            "email": t["Лояльность: баллы начислены"],
            "messenger": t["Лояльность: Telegram о баллах"],
            "sms": t["Лояльность: баллы сгорают"],
        },
        "welcome_series": {
            "email": t["Приветственное письмо"],
            "email_second": t["Приветствие 2: как мы работаем"],
            "email_tips": t["Приветствие: советы"],
            "email_promo": t["Приветствие: скидка на первый заказ"],
        },
    }
    values = dict(by_key[key])
    if pool is not None:
        values["pool"] = pool.pk
    values["segment"] = segment.pk
    return values


def _people(segment: Segment, count: int, taken: set[int]) -> list[int]:
    """Members of the segment reachable by email (else any demo customers), not in another demo
    journey."""
    members = SegmentMembership.objects.filter(segment=segment).values("customer_id")
    query = Customer.objects.filter(
        erased_at__isnull=True, email__gt="", identities__channel="email"
    ).exclude(pk__in=taken)
    chosen = list(query.filter(pk__in=members).order_by("pk").values_list("pk", flat=True)[:count])
    if len(chosen) < count:
        more = query.exclude(pk__in=chosen).order_by("-pk").values_list("pk", flat=True)
        chosen += list(more[: count - len(chosen)])
    return chosen


def _dispatch(customer_id: int, signal: Signal, at: datetime, journeys: list[int]) -> None:
    """What signals_dispatch does, with the story's clock instead of the real one."""
    with transaction.atomic():
        rows = list(
            Enrollment.objects.select_for_update()
            .filter(customer_id=customer_id, journey_id__in=journeys, state__in=OPEN_STATES)
            .order_by("pk")
        )
        enrollments_advance(rows, now=at, signals={r.pk: signal for r in rows})


def _react(handled: set[int], journeys: list[int], at: datetime, rng: random.Random) -> None:
    """The gateway sends what is due; some customers open or click, and some of them order."""
    queued = list(
        Message.objects.filter(source="journey", status=MessageStatus.QUEUED).values_list(
            "pk", flat=True
        )
    )
    if queued:
        messages_deliver(queued, now=at)
    fresh = (
        Message.objects.filter(source="journey", sent_at__isnull=False)
        .exclude(pk__in=handled)
        .exclude(status__in=(MessageStatus.QUEUED, MessageStatus.SUPPRESSED))
        .order_by("pk")
        .values_list("pk", "customer_id", "channel")
    )
    orders = []
    for message_id, customer_id, channel in list(fresh):
        handled.add(message_id)
        Message.objects.filter(pk=message_id).update(sent_at=at)
        message_status_apply(message_id=message_id, status=MessageStatus.DELIVERED, occurred_at=at)
        if rng.random() >= OPEN_CHANCE.get(channel, 0.2):
            continue
        seen = at + timedelta(minutes=rng.randint(5, 100))
        status = MessageStatus.CLICKED if channel == "sms" else MessageStatus.OPENED
        message_status_apply(message_id=message_id, status=status, occurred_at=seen)
        signal = Signal(
            kind="message", at=seen, message_id=message_id, status=status, channel=channel
        )
        _dispatch(customer_id, signal, seen, journeys)
        if rng.random() < ORDER_CHANCE:
            orders.append((customer_id, seen + timedelta(minutes=rng.randint(10, 110))))
    for customer_id, placed in orders:
        _order(customer_id, placed, journeys, rng)


def _order(customer_id: int, placed: datetime, journeys: list[int], rng: random.Random) -> None:
    run = (
        Enrollment.objects.filter(customer_id=customer_id, journey_id__in=journeys)
        .order_by("-pk")
        .first()
    )
    code = (run.context.get("promo_code") or "") if run else ""
    customer = Customer.objects.get(pk=customer_id)
    total = Decimal(rng.choice(["1990.00", "3490.00", "5290.00", "8990.00"]))
    external_id = f"demo-journey-{customer_id}-{int(placed.timestamp())}"
    order_upsert_batch(
        items=[
            OrderIn(
                external_id=external_id,
                customer_external_id=customer.external_id,
                status="completed",
                placed_at=placed,
                total=total,
                currency="RUB",
                promo_code=code,
            )
        ],
        source="demo",
    )
    signal = Signal(
        kind="order",
        at=placed,
        total=total,
        promo_code=code,
        properties={"order_id": external_id, "promo_code": code, "total": total},
    )
    _dispatch(customer_id, signal, placed, journeys)


def journeys_demo_load(*, per_journey: int | None = None) -> list[Journey]:
    """Idempotent: a second run finds the demo journeys and leaves them as they are.
    `per_journey` overrides how many customers each journey takes (tests use a few)."""
    if not settings.MESSAGING_SANDBOX:
        return []
    names = [name for _key, name, *_rest in DEMO]
    existing = list(Journey.objects.filter(name__in=names))
    if existing:
        return existing
    rng = random.Random(SEED)
    templates = _templates()
    segments = base_segments_ensure()
    now = timezone.now()
    start = now - timedelta(days=STORY_DAYS)
    journeys, entries, taken = [], [], set()
    for key, name, segment_name, count, pool_name in DEMO:
        pool = PromoPool.objects.filter(name=pool_name).first() if pool_name else None
        segment = segments[segment_name]
        with translation.override("ru"):  # the demo shop is Russian: its step names too
            journey = library_journey_create(
                key=key, values=_values(key, templates, pool, segment), name=name
            )
        if "include_current" in journey.draft["trigger"]:
            # Runs start in the story below, not all at once now.
            trigger = {**journey.draft["trigger"], "include_current": False}
            journey = journey_draft_save(
                journey=journey, definition={**journey.draft, "trigger": trigger}
            )
        journey_publish(journey=journey, note="demo")
        journey.refresh_from_db()
        journeys.append(journey)
        people = _people(segment, per_journey or count, taken)
        taken |= set(people)
        # Entries spread over the first four days of the story.
        entries += [
            (start + timedelta(minutes=rng.randint(0, 4 * 24 * 60)), journey.pk, person)
            for person in people
        ]
    ids = [j.pk for j in journeys]
    by_id = {j.pk: j for j in journeys}
    handled: set[int] = set()
    entries.sort(key=lambda e: (e[0], e[2]))
    moment = start
    while moment < now:
        moment = min(moment + timedelta(hours=STEP_HOURS), now)
        while entries and entries[0][0] <= moment:
            at, journey_id, person = entries.pop(0)
            journey_enrol(journey=by_id[journey_id], customer_id=person, now=at)
        journeys_due_advance(now=moment)
        _react(handled, ids, moment, rng)
    return journeys
