"""Demo data for `make run`: a shop's customers, their behaviour and 18 months of orders.

Everything is written through the same batch services the API uses, so demo data is validated
like data from a CRM. One seeded generator drives all choices and dates are laid out backwards
from the start of the current UTC day, so a load on the same day gives the same data.

Emails use the reserved example.* domains and US phones the fictional 555-01xx range, so a
misconfigured provider cannot reach a real person there. Russian and UK mobiles have no fictional
range that passes validation; they are random valid numbers.
"""

import base64
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker

from customers.api.schemas import MAX_BATCH_ITEMS, CustomerIn, EventIn, OrderIn
from customers.models import (
    AttributeDefinition,
    ChannelIdentity,
    Consent,
    Customer,
    Event,
    LifecycleStage,
    Order,
    Segment,
)
from customers.normalize import normalize_phone
from customers.services.customers import customer_upsert_batch
from customers.services.events import event_ingest_batch
from customers.services.orders import order_upsert_batch
from customers.services.rfm import rfm_compute
from customers.services.segments import segment_create, segments_refresh_all

DEMO_PREFIX = "demo-"
DEFAULT_CUSTOMERS = 1200
SEED = 20_240_615
SOURCE = "demo"
CHUNK_SIZE = MAX_BATCH_ITEMS
HISTORY_DAYS = 548  # about 18 months

ATTRIBUTES = [
    ("city", "City", AttributeDefinition.Type.STRING, "Where the customer lives."),
    ("loyalty_member", "Loyalty member", AttributeDefinition.Type.BOOL, "In the loyalty club."),
    ("children", "Children", AttributeDefinition.Type.NUMBER, "Number of children."),
    (
        "preferred_channel",
        "Preferred channel",
        AttributeDefinition.Type.STRING,
        "The channel the customer says they prefer.",
    ),
]


# --- Catalogue ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueItem:
    sku: str
    name_ru: str
    name_en: str
    category: str
    price_rub: int
    weight: float  # how often it is bought, relative to the others


_C = CatalogueItem
# fmt: off
CATALOGUE = [
    _C("GPU-RTX4060", "Видеокарта GeForce RTX 4060 8 ГБ", "GeForce RTX 4060 8GB graphics card", "Electronics / Video cards", 32_990, 1.2),
    _C("GPU-RTX4070S", "Видеокарта GeForce RTX 4070 Super 12 ГБ", "GeForce RTX 4070 Super 12GB graphics card", "Electronics / Video cards", 64_990, 0.8),
    _C("GPU-RTX4090", "Видеокарта GeForce RTX 4090 24 ГБ", "GeForce RTX 4090 24GB graphics card", "Electronics / Video cards", 189_990, 0.2),
    _C("GPU-RX7800XT", "Видеокарта Radeon RX 7800 XT 16 ГБ", "Radeon RX 7800 XT 16GB graphics card", "Electronics / Video cards", 54_990, 0.6),
    _C("NB-VIVOBOOK15", "Ноутбук ASUS VivoBook 15", "ASUS VivoBook 15 laptop", "Electronics / Laptops", 54_990, 0.8),
    _C("NB-THINKPADE14", "Ноутбук Lenovo ThinkPad E14", "Lenovo ThinkPad E14 laptop", "Electronics / Laptops", 89_990, 0.5),
    _C("NB-MBAIR13M3", "Ноутбук Apple MacBook Air 13 M3", "Apple MacBook Air 13 M3", "Electronics / Laptops", 129_990, 0.4),
    _C("PH-GALAXYA55", "Смартфон Samsung Galaxy A55", "Samsung Galaxy A55 smartphone", "Electronics / Smartphones", 36_990, 1.0),
    _C("PH-REDMINOTE13", "Смартфон Xiaomi Redmi Note 13", "Xiaomi Redmi Note 13 smartphone", "Electronics / Smartphones", 21_990, 1.3),
    _C("PH-IPHONE15", "Смартфон Apple iPhone 15 128 ГБ", "Apple iPhone 15 128GB", "Electronics / Smartphones", 89_990, 0.6),
    _C("AU-WH1000XM5", "Наушники Sony WH-1000XM5", "Sony WH-1000XM5 headphones", "Electronics / Audio", 34_990, 0.8),
    _C("AU-JBLT520", "Наушники JBL Tune 520BT", "JBL Tune 520BT headphones", "Electronics / Audio", 4_490, 2.0),
    _C("AC-MXMASTER3S", "Мышь Logitech MX Master 3S", "Logitech MX Master 3S mouse", "Electronics / Accessories", 9_990, 1.2),
    _C("AC-CHARGER65", "Зарядное устройство USB-C 65 Вт", "65W USB-C charger", "Electronics / Accessories", 2_990, 2.5),
    _C("AC-KEYBOARD", "Механическая клавиатура Keychron K2", "Keychron K2 mechanical keyboard", "Electronics / Accessories", 8_990, 1.0),
    _C("KID-LEGOCITY", "LEGO City Полицейский участок", "LEGO City Police Station", "Children / Toys", 8_990, 1.5),
    _C("KID-MAGNETIC", "Магнитный конструктор, 64 детали", "Magnetic building tiles, 64 pieces", "Children / Toys", 2_490, 2.0),
    _C("KID-PUZZLE500", "Пазл «Карта мира», 500 элементов", "World map jigsaw, 500 pieces", "Children / Toys", 790, 2.2),
    _C("KID-SCOOTER", "Детский самокат трёхколёсный", "Children's three-wheel scooter", "Children / Outdoor", 4_990, 1.0),
    _C("KID-STROLLER", "Прогулочная коляска Happy Baby", "Happy Baby pushchair", "Children / Baby", 18_990, 0.4),
    _C("KID-CARSEAT", "Автокресло 9–36 кг", "Car seat 9–36 kg", "Children / Baby", 12_990, 0.5),
    _C("KID-NAPPIES", "Подгузники Pampers, 4 размер, 104 шт.", "Pampers nappies, size 4, 104 pack", "Children / Baby", 1_890, 4.0),
    _C("KID-BACKPACK", "Школьный рюкзак", "School backpack", "Children / School", 2_990, 1.2),
    _C("BK-MASTER", "М. Булгаков. Мастер и Маргарита", "M. Bulgakov. The Master and Margarita", "Books / Fiction", 690, 2.0),
    _C("BK-WARPEACE", "Л. Толстой. Война и мир", "L. Tolstoy. War and Peace", "Books / Fiction", 1_290, 1.2),
    _C("BK-POTTER1", "Дж. Роулинг. Гарри Поттер и философский камень", "J. K. Rowling. Harry Potter and the Philosopher's Stone", "Books / Children's books", 890, 1.8),
    _C("BK-PUSHKIN", "А. Пушкин. Сказки", "A. Pushkin. Fairy Tales", "Books / Children's books", 590, 1.5),
    _C("BK-CLEANCODE", "Р. Мартин. Чистый код", "R. Martin. Clean Code", "Books / Computing", 1_990, 1.0),
    _C("BK-FLUENTPY", "Л. Рамальо. Python. К вершинам мастерства", "L. Ramalho. Fluent Python", "Books / Computing", 3_490, 0.8),
    _C("HM-COFFEE", "Кофемашина De'Longhi Magnifica S", "De'Longhi Magnifica S coffee machine", "Home / Kitchen", 39_990, 0.5),
    _C("HM-KETTLE", "Электрический чайник Bosch", "Bosch electric kettle", "Home / Kitchen", 3_490, 1.5),
    _C("HM-PANS", "Набор сковородок Tefal, 3 шт.", "Tefal frying pan set, 3 pieces", "Home / Kitchen", 5_990, 1.0),
    _C("HM-ROBOVAC", "Робот-пылесос Xiaomi", "Xiaomi robot vacuum cleaner", "Home / Appliances", 24_990, 0.7),
    _C("SP-YOGAMAT", "Коврик для йоги", "Yoga mat", "Sport", 1_990, 1.5),
    _C("SP-DUMBBELLS", "Гантели разборные 2 × 5 кг", "Adjustable dumbbells 2 × 5 kg", "Sport", 3_990, 1.0),
    _C("SP-RUNSHOES", "Беговые кроссовки ASICS", "ASICS running shoes", "Sport", 8_990, 1.0),
]
# fmt: on
del _C
# Roubles per unit; a shop's own round prices abroad, not today's exchange rate.
PRICE_DIVISOR = {"GBP": Decimal(110), "USD": Decimal(90)}
PROMO_CODES = {
    "WELCOME10": Decimal("0.10"),
    "SPRING15": Decimal("0.15"),
    "BLACKFRIDAY20": Decimal("0.20"),
}


def catalogue_price(item: CatalogueItem, currency: str) -> Decimal:
    if currency == "RUB":
        return Decimal(item.price_rub)
    rounded = (Decimal(item.price_rub) / PRICE_DIVISOR[currency]).quantize(Decimal(1))
    return rounded - Decimal("0.01")  # x.99, as shops abroad write prices


def catalogue_sku(item: CatalogueItem, currency: str) -> str:
    # Shops abroad sell from their own price list, so each currency has its own SKU and price.
    return item.sku if currency == "RUB" else f"{item.sku}-{currency[:2]}"


# --- Markets: where a customer lives decides locale, time zone, phone and currency -------------
@dataclass(frozen=True)
class Market:
    locale: str
    faker_locale: str
    currency: str
    phone: str  # "ru", "uk" or "us"
    cities: tuple[tuple[str, str, float], ...]  # (city, IANA zone, weight)


RU_CITIES = (
    ("Москва", "Europe/Moscow", 10),
    ("Санкт-Петербург", "Europe/Moscow", 5),
    ("Казань", "Europe/Moscow", 1.5),
    ("Нижний Новгород", "Europe/Moscow", 1.5),
    ("Краснодар", "Europe/Moscow", 1.5),
    ("Самара", "Europe/Samara", 1.2),
    ("Екатеринбург", "Asia/Yekaterinburg", 2.0),
    ("Челябинск", "Asia/Yekaterinburg", 1.0),
    ("Омск", "Asia/Omsk", 0.8),
    ("Новосибирск", "Asia/Novosibirsk", 1.6),
    ("Красноярск", "Asia/Krasnoyarsk", 0.8),
    ("Владивосток", "Asia/Vladivostok", 0.6),
)
EXPAT_CITIES = (("Moscow", "Europe/Moscow", 3), ("Saint Petersburg", "Europe/Moscow", 1.5))
UK_CITIES = (
    ("London", "Europe/London", 5),
    ("Manchester", "Europe/London", 1.5),
    ("Birmingham", "Europe/London", 1.2),
    ("Edinburgh", "Europe/London", 1),
    ("Bristol", "Europe/London", 0.8),
)
US_CITIES = (
    ("New York", "America/New_York", 4),
    ("Boston", "America/New_York", 1),
    ("Chicago", "America/Chicago", 2),
    ("Austin", "America/Chicago", 1),
    ("Denver", "America/Denver", 0.8),
    ("Seattle", "America/Los_Angeles", 1),
    ("San Francisco", "America/Los_Angeles", 1.5),
)
# (market, share of customers); English speakers in Russia buy in roubles.
MARKETS = [
    (Market("ru-RU", "ru_RU", "RUB", "ru", RU_CITIES), 60),
    (Market("en-GB", "en_GB", "RUB", "ru", EXPAT_CITIES), 8),
    (Market("en-US", "en_US", "RUB", "ru", EXPAT_CITIES), 6),
    (Market("en-GB", "en_GB", "GBP", "uk", UK_CITIES), 14),
    (Market("en-US", "en_US", "USD", "us", US_CITIES), 12),
]
US_AREA_CODES = {
    "New York": ("212", "646", "718"),
    "Boston": ("617",),
    "Chicago": ("312", "773"),
    "Austin": ("512",),
    "Denver": ("303",),
    "Seattle": ("206",),
    "San Francisco": ("415", "628"),
}
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
# fmt: off
TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
    strict=True,
))
# fmt: on

# Buyer profiles: (share of customers, fewest orders, most orders). Browsers never order; a few
# customers buy very often, so RFM scoring has something to tell apart.
BUYER_PROFILES = {
    "browser": (28, 0, 0),
    "one_off": (30, 1, 1),
    "occasional": (24, 2, 4),
    "regular": (12, 5, 10),
    "frequent": (6, 12, 30),
}
# Whether a customer is still around: (share, days since the last visit, from–to).
RECENCY = {"active": (60, 0, 0), "lapsed": (25, 190, 360), "churned": (15, 370, 520)}
EMAIL_CAMPAIGNS = ("weekly_digest", "new_arrivals", "abandoned_cart", "birthday", "black_friday")
SEARCH_QUERIES = ("rtx 4070", "видеокарта", "iphone", "lego", "подгузники", "наушники", "книги")
# Relative chance of each local hour for a visit: quiet at night, busy in the evening.
HOUR_WEIGHTS = [1] * 7 + [3] * 2 + [5] * 10 + [8] * 4 + [2]


# --- Generation ---------------------------------------------------------------------------------
@dataclass
class DemoData:
    """Batch items as an API client would send them, in the order they must be written."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class _Generator:
    def __init__(self, *, count: int, anchor: datetime, seed: int) -> None:
        self.count = count
        self.anchor = anchor
        self.earliest = anchor - timedelta(days=HISTORY_DAYS)
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for market, _ in MARKETS:
            if market.faker_locale not in self.fakers:
                self.fakers[market.faker_locale] = Faker(market.faker_locale)
                self.fakers[market.faker_locale].seed_instance(seed)
        self.used: set[str] = set()  # addresses handed out; each must belong to one customer
        self.orders_made = 0
        self.data = DemoData()

    def run(self) -> DemoData:
        for n in range(1, self.count + 1):
            self.customer(f"{DEMO_PREFIX}{n:06d}")
        return self.data

    def weighted(self, options: list[tuple[Any, float]]) -> Any:
        return self.rng.choices([o for o, _ in options], [w for _, w in options])[0]

    def unique(self, make: Callable[[], str | None], attempts: int = 10_000) -> str | None:
        """A value from make() that no customer has yet; None if none turns up."""
        for _ in range(attempts):
            value = make()
            if value and value not in self.used:
                self.used.add(value)
                return value
        return None

    def moment(self, start: datetime, end: datetime, tz: ZoneInfo) -> datetime:
        """A time between start and end, at an hour people are awake where the customer lives."""
        day = (start + (end - start) * self.rng.random()).astimezone(tz)
        at = day.replace(
            hour=self.rng.choices(range(24), HOUR_WEIGHTS)[0],
            minute=self.rng.randrange(60),
            second=self.rng.randrange(60),
            microsecond=0,
        ).astimezone(UTC)
        return at - timedelta(days=1) if at >= self.anchor else at

    def phone(self, kind: str, city: str) -> str | None:
        def make() -> str | None:
            if kind == "ru":
                raw = f"+79{self.rng.randrange(100):02d}{self.rng.randrange(10**7):07d}"
            elif kind == "uk":
                raw = f"+447{self.rng.randrange(4, 10)}{self.rng.randrange(10**8):08d}"
            else:
                area = self.rng.choice(US_AREA_CODES[city])
                raw = f"+1{area}5550{self.rng.randrange(100, 200)}"
            try:
                return normalize_phone(raw)
            except ValueError:
                return None  # a range not in use; draw again

        # The fictional US range holds 100 numbers per area code; past that, no phone.
        return self.unique(make, attempts=200)

    def email(self, first: str, last: str, birth: date) -> str | None:
        first, last = _ascii(first), _ascii(last)
        patterns = (
            lambda: f"{first}.{last}",
            lambda: f"{first[0]}{last}",
            lambda: f"{last}.{first}{birth.year % 100:02d}",
            lambda: f"{first}_{last}{birth.year}",
            lambda: f"{first}{self.rng.randrange(1, 999)}",
        )
        return self.unique(
            lambda: f"{self.rng.choice(patterns)()}@{self.rng.choice(EMAIL_DOMAINS)}"
        )

    def customer(self, external_id: str) -> None:
        rng = self.rng
        market = self.weighted(MARKETS)
        faker = self.fakers[market.faker_locale]
        if rng.random() < 0.55:  # Russian surnames agree with gender: Иванова, Иванов
            first, last = faker.first_name_female(), faker.last_name_female()
        else:
            first, last = faker.first_name_male(), faker.last_name_male()
        city, zone = self.weighted([((c, z), w) for c, z, w in market.cities])
        tz = ZoneInfo(zone)
        birth = self.anchor.date() - timedelta(days=int(365.25 * rng.triangular(18, 72, 34)))
        children = rng.choices([0, 1, 2, 3], [45, 28, 20, 7])[0]

        profile = self.weighted([(k, v[0]) for k, v in BUYER_PROFILES.items()])
        _, fewest, most = BUYER_PROFILES[profile]
        recency = (
            "active"
            if profile in ("browser", "frequent")
            else self.weighted([(k, v[0]) for k, v in RECENCY.items()])
        )
        _, idle_from, idle_to = RECENCY[recency]
        end = self.anchor - timedelta(days=rng.uniform(idle_from, idle_to))
        start = max(self.earliest, end - timedelta(days=rng.uniform(30, HISTORY_DAYS)))

        phone = self.phone(market.phone, city) if rng.random() < 0.88 else None
        email = self.email(first, last, birth) if phone is None or rng.random() < 0.95 else None
        identities, consents = self.addresses(email, phone, market)
        consented = sorted(c["channel"] for c in consents if c["status"] == "opted_in")

        orders = [
            self.order(external_id, market, tz, start, end, children)
            for _ in range(rng.randint(fewest, most))
        ]
        has_app = any(i["channel"] == "push" for i in identities)
        self.behaviour(external_id, market, tz, start, end, orders, has_app, "email" in consented)

        attributes: dict[str, Any] = {
            "city": city,
            "loyalty_member": len(orders) >= 3 or rng.random() < 0.15,
            "children": children,
        }
        if consented:
            attributes["preferred_channel"] = rng.choice(consented)
        item: dict[str, Any] = {
            "external_id": external_id,
            "first_name": first,
            "last_name": last,
            "locale": market.locale,
            "timezone": zone,
            "lifecycle_stage": self.lifecycle_stage(orders),
            "attributes": attributes,
            "identities": identities,
            "consents": consents,
            # Signed up a little before their first visit or order.
            "created_at": (start - timedelta(days=rng.uniform(0, 20))).isoformat(),
        }
        for name, value in (("email", email), ("phone", phone)):
            if value:
                item[name] = value
        if rng.random() < 0.8:
            item["birth_date"] = birth.isoformat()
        self.data.customers.append(item)
        self.data.orders.extend(orders)

    def lifecycle_stage(self, orders: list[dict[str, Any]]) -> str:
        if not orders:
            return LifecycleStage.PROSPECT if self.rng.random() < 0.6 else LifecycleStage.LEAD
        idle = self.anchor - max(o["placed_at"] for o in orders)
        if idle > timedelta(days=365):
            return LifecycleStage.CHURNED
        if idle > timedelta(days=180):
            return LifecycleStage.LAPSED
        return LifecycleStage.REPEAT_CUSTOMER if len(orders) > 1 else LifecycleStage.CUSTOMER

    def addresses(
        self, email: str | None, phone: str | None, market: Market
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Channel identities beyond email and phone, and consents: mostly opted in by email."""
        rng = self.rng
        in_russia = market.phone == "ru"
        identities: list[dict[str, str]] = []
        consents: list[dict[str, str]] = []

        def consent(channel: str, opted_in: float, opted_out: float, source: str) -> None:
            roll = rng.random()
            status = "opted_in" if roll < opted_in else "opted_out"
            if roll < opted_in + opted_out:
                consents.append({"channel": channel, "status": status, "source": source})

        if email:
            consent("email", 0.8, 0.12, rng.choice(["signup_form", "checkout"]))
        if phone:
            consent("sms", 0.45, 0.25, rng.choice(["checkout", "call_centre"]))
            if rng.random() < (0.65 if in_russia else 0.4):
                identities.append({"channel": "whatsapp", "address": phone})
                consent("whatsapp", 0.6, 0.15, "whatsapp_chat")
            if in_russia and rng.random() < 0.3:
                viber_id = self.unique(lambda: base64.b64encode(rng.randbytes(16)).decode())
                identities.append({"channel": "viber", "address": viber_id})
                consent("viber", 0.55, 0.2, "viber_bot")
        if rng.random() < (0.5 if in_russia else 0.2):
            chat_id = self.unique(lambda: str(rng.randrange(10**8, 7 * 10**9)))
            identities.append({"channel": "telegram", "address": chat_id})
            consent("telegram", 0.75, 0.1, "telegram_bot")
        if rng.random() < 0.35:
            platform = rng.choice(["fcm", "apns"])
            token = self.unique(lambda: f"{platform}:{rng.randbytes(32).hex()}")
            identities.append({"channel": "push", "address": token})
            consent("push", 0.7, 0.2, "mobile_app")
        return identities, consents

    def order(
        self,
        customer_id: str,
        market: Market,
        tz: ZoneInfo,
        start: datetime,
        end: datetime,
        children: int,
    ) -> dict[str, Any]:
        rng = self.rng
        placed_at = self.moment(start, end, tz)
        # Children's goods go to parents, and now and then to someone buying a present.
        shelf = [
            c
            for c in CATALOGUE
            if children or not c.category.startswith("Children") or rng.random() < 0.1
        ]
        size = rng.choices([1, 2, 3, 4], [55, 25, 13, 7])[0]
        lines: dict[str, dict[str, Any]] = {}
        for product in rng.choices(shelf, [c.weight for c in shelf], k=size):
            lines[product.sku] = {
                "sku": catalogue_sku(product, market.currency),
                "name": product.name_ru if market.locale == "ru-RU" else product.name_en,
                "category": product.category,
                "quantity": 1 if product.price_rub > 5000 else rng.choice([1, 1, 1, 2, 3]),
                "price": str(catalogue_price(product, market.currency)),
            }
        subtotal = sum(Decimal(line["price"]) * line["quantity"] for line in lines.values())
        promo = rng.choice(sorted(PROMO_CODES)) if rng.random() < 0.15 else ""
        total = subtotal * (1 - PROMO_CODES.get(promo, Decimal(0)))
        age = self.anchor - placed_at
        if age < timedelta(days=2):
            status = rng.choice(["pending", "paid"])
        elif age < timedelta(days=6):
            status = rng.choice(["paid", "shipped"])
        else:
            status = rng.choices(["completed", "cancelled", "refunded"], [90, 6, 4])[0]
        self.orders_made += 1
        return {
            "external_id": f"{DEMO_PREFIX}ord-{self.orders_made:07d}",
            "customer_external_id": customer_id,
            "status": status,
            "placed_at": placed_at,
            "total": str(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "currency": market.currency,
            "promo_code": promo,
            "items": list(lines.values()),
        }

    def behaviour(
        self,
        customer_id: str,
        market: Market,
        tz: ZoneInfo,
        start: datetime,
        end: datetime,
        orders: list[dict[str, Any]],
        has_app: bool,
        gets_email: bool,
    ) -> None:
        """Events: visits that browse, carts that are sometimes left, reactions to mailings."""
        rng = self.rng
        events = self.data.events

        def add(name: str, at: datetime, source: str, **properties: Any) -> None:
            events.append(
                {
                    "event_id": f"{DEMO_PREFIX}evt-{len(events) + 1:08d}",
                    "customer_external_id": customer_id,
                    "name": name,
                    "properties": properties,
                    "occurred_at": min(at, self.anchor - timedelta(seconds=1)),
                    "source": source,
                }
            )

        def visit(at: datetime, bought: list[dict[str, Any]] | None = None) -> None:
            source = "app" if has_app and rng.random() < 0.5 else "web"
            if source == "app":
                add("app_open", at, source)
            else:
                add("page_view", at, source, url=rng.choice(["/", "/catalog", "/sale", "/new"]))
            if not bought and rng.random() < 0.3:
                at += timedelta(minutes=rng.randint(1, 3))
                add("search", at, source, query=rng.choice(SEARCH_QUERIES))
            viewed = bought or [
                {"sku": catalogue_sku(p, market.currency), "category": p.category}
                for p in rng.sample(CATALOGUE, rng.choice([1, 1, 2, 3]))
            ]
            for line in viewed:
                at += timedelta(minutes=rng.randint(1, 4))
                add("product_view", at, source, sku=line["sku"], category=line["category"])
            # A visit that ends without an order sometimes leaves a cart behind.
            carted = viewed if bought else viewed[:1] if rng.random() < 0.25 else []
            for line in carted:
                at += timedelta(minutes=rng.randint(1, 3))
                add("add_to_cart", at, source, sku=line["sku"])

        for order in orders:
            # Early enough that the visit's views and cart all come before the order.
            visit(order["placed_at"] - timedelta(minutes=rng.randint(45, 90)), order["items"])
        for _ in range(rng.randint(1, 3) + len(orders) // 3):
            visit(self.moment(start, end, tz))
        if gets_email:
            for _ in range(rng.randint(0, 6)):
                at = self.moment(start, end, tz)
                campaign = rng.choice(EMAIL_CAMPAIGNS)
                add("email_opened", at, "email", campaign=campaign)
                if rng.random() < 0.3:
                    clicked_at = at + timedelta(seconds=rng.randint(5, 300))
                    add("email_clicked", clicked_at, "email", campaign=campaign)
        if has_app:
            for _ in range(rng.randint(0, 3)):
                add("push_opened", self.moment(start, end, tz), "app")


def _ascii(name: str) -> str:
    latin = "".join(TRANSLIT.get(ch, ch) for ch in name.lower())
    return "".join(ch for ch in latin if ch.isascii() and ch.isalnum()) or "user"


def demo_data_generate(*, customers: int, anchor: datetime, seed: int = SEED) -> DemoData:
    """Plain dicts shaped like API batch items; nothing is written."""
    return _Generator(count=customers, anchor=anchor, seed=seed).run()


# --- Loading ------------------------------------------------------------------------------------
@dataclass
class DemoLoadResult:
    loaded: bool
    customers: int = 0
    identities: int = 0
    consents: int = 0
    events: int = 0
    orders: int = 0
    seconds: float = 0.0


def demo_data_exists() -> bool:
    return Customer.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


def _chunks(items: list, size: int = CHUNK_SIZE) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def demo_data_load(*, customers: int = DEFAULT_CUSTOMERS, seed: int = SEED) -> DemoLoadResult:
    """Load demo data unless some is already there (customers whose external_id starts `demo-`).

    All in one transaction, so an interrupted load leaves nothing behind and is simply run again.
    """
    started = time.perf_counter()
    if demo_data_exists():
        return DemoLoadResult(loaded=False)
    anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    data = demo_data_generate(customers=customers, anchor=anchor, seed=seed)
    with transaction.atomic():
        # Attributes are staff-defined reference data with no service of their own.
        for key, label, type_, description in ATTRIBUTES:
            AttributeDefinition.objects.get_or_create(
                key=key, defaults={"label": label, "type": type_, "description": description}
            )
        for chunk in _chunks(data.customers):
            customer_upsert_batch(
                items=[CustomerIn.model_validate(c) for c in chunk], source=SOURCE
            )
        for chunk in _chunks(data.orders):
            order_upsert_batch(items=[OrderIn.model_validate(o) for o in chunk], source=SOURCE)
        for chunk in _chunks(data.events):
            event_ingest_batch(items=[EventIn.model_validate(e) for e in chunk], source=SOURCE)
        rfm_compute(as_of=anchor.date())
        for name, description, rules in DEMO_SEGMENTS:
            segment_create(
                name=name, kind=Segment.Kind.DYNAMIC, rules=rules, description=description
            )
        segments_refresh_all()
    demo = {"customer__external_id__startswith": DEMO_PREFIX}
    return DemoLoadResult(
        loaded=True,
        customers=Customer.objects.filter(external_id__startswith=DEMO_PREFIX).count(),
        identities=ChannelIdentity.objects.filter(**demo).count(),
        consents=Consent.objects.filter(**demo).count(),
        events=Event.objects.filter(**demo).count(),
        orders=Order.objects.filter(**demo).count(),
        seconds=time.perf_counter() - started,
    )


# Segments from the seeds' examples (docs/segments.md), over the demo's attributes and catalogue.
DEMO_SEGMENTS = [
    (
        "Gamers and streamers",
        "Bought a video card.",
        {"bought": {"category": "Electronics / Video cards"}},
    ),
    (
        "Champions not opening email",
        "RFM Champions with no email opened in 60 days: reach them on another channel.",
        {"all": [
            {"rfm": {"segment": "champions"}},
            {"event": {"name": "email_opened", "performed": False, "within_days": 60}},
        ]},
    ),
    (
        "Loyalty members without a recent order",
        "In the loyalty club, no order in the last 30 days.",
        {"all": [
            {"field": "attributes.loyalty_member", "op": "equals", "value": True},
            {"orders": {"count": {"equals": 0}, "within_days": 30}},
        ]},
    ),
    (
        "Parents who prefer Telegram",
        "Have children, prefer Telegram and can be reached there.",
        {"all": [
            {"field": "attributes.children", "op": "gte", "value": 1},
            {"field": "attributes.preferred_channel", "op": "equals", "value": "telegram"},
            {"reachable": "telegram"},
        ]},
    ),
    (
        "Birthday this week",
        "Birthday in the next 7 days.",
        {"field": "birth_date", "op": "in_next_days", "value": 7},
    ),
]  # fmt: skip


# --- The demo staff login -----------------------------------------------------------------------
DEMO_USERNAME = "admin"


@dataclass
class DemoLogin:
    username: str
    password: str
    path: Path
    created: bool = False
    reset: bool = False
    works: bool = True


def demo_login_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-login.txt"


def _read_password(path: Path) -> str | None:
    try:
        lines = path.read_text().splitlines()
    except (FileNotFoundError, PermissionError, UnicodeDecodeError):
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    return values.get("password") or None


def _write_password(path: Path, username: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start, so the password is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"username={username}\npassword={password}\n")
    os.chmod(path, 0o600)  # an older file may have had wider permissions


@transaction.atomic
def demo_login_ensure() -> DemoLogin:
    """Make sure the staff superuser `admin` exists and its password is in var/demo-login.txt.

    A new user, or an existing one whose file is gone, gets a fresh random password. A password
    staff changed in the admin is left alone; `works` is then False.
    """
    User = get_user_model()
    path = demo_login_path()
    user = User.objects.select_for_update().filter(username=DEMO_USERNAME).first()
    stored = _read_password(path)
    login = DemoLogin(username=DEMO_USERNAME, password=stored or "", path=path)
    if user is None:
        login.password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=DEMO_USERNAME, email="", password=login.password)
        login.created = True
    else:
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            user.save(update_fields=["is_staff", "is_superuser", "is_active"])
        if stored is None:
            login.password = secrets.token_urlsafe(12)
            user.set_password(login.password)
            user.save(update_fields=["password"])
            login.reset = True
        else:
            login.works = user.check_password(stored)
    if login.created or login.reset:
        _write_password(path, DEMO_USERNAME, login.password)
    return login
