"""Deterministic test data, as a CRM or shop would send it to the batch API.

Every generator is seeded, so the API phase and the COPY phase see exactly the same items. Values
are already in the form Kaskad stores them (E.164 phones, RFC 3339 times), except emails, which
are sent in mixed case as CRMs do and lower-cased by the API.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

FULL_CUSTOMERS = 100_000
FULL_EVENTS = 1_000_000
FULL_ORDERS = 200_000
CATALOGUE_SIZE = 2_000

# Everything happens in the 18 months before this moment.
HISTORY_END = datetime(2025, 6, 1, tzinfo=UTC)
HISTORY_SECONDS = int(timedelta(days=548).total_seconds())

FIRST_NAMES = [
    ("Иван", "ivan"),
    ("Мария", "maria"),
    ("Алексей", "alexey"),
    ("Ольга", "olga"),
    ("Дмитрий", "dmitry"),
    ("Анна", "anna"),
    ("Сергей", "sergey"),
    ("Елена", "elena"),
    ("Андрей", "andrey"),
    ("Наталья", "natalya"),
]
LAST_NAMES = [
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Соколов", "sokolov"),
    ("Лебедев", "lebedev"),
    ("Козлов", "kozlov"),
    ("Новиков", "novikov"),
]
EMAIL_DOMAINS = ["Mail.ru", "yandex.ru", "gmail.com", "bk.ru", "Inbox.ru"]
# Mobile codes that phonenumbers accepts as valid Russian numbers.
MOBILE_CODES = ["916", "926", "903", "905", "915", "925", "977", "985", "999", "968"]
TIME_ZONES = ["Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Novosibirsk"]
LIFECYCLE_STAGES = ["lead", "prospect", "customer", "repeat_customer", "lapsed"]
EVENT_NAMES = ["page_view", "product_view", "add_to_cart", "search", "email_open", "app_open"]
EVENT_WEIGHTS = [40, 25, 10, 10, 10, 5]
ORDER_STATUSES = ["completed", "paid", "shipped", "cancelled", "refunded"]
ORDER_STATUS_WEIGHTS = [80, 8, 6, 4, 2]
CATEGORIES = ["Электроника", "Одежда", "Дом", "Красота", "Спорт", "Книги", "Детям", "Продукты"]
SEARCHES = ["кроссовки", "телефон", "подарок", "чайник", "платье", "книга"]


@dataclass(frozen=True)
class Sizes:
    customers: int
    events: int
    orders: int

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        return cls(
            customers=max(1, round(FULL_CUSTOMERS * scale)),
            events=max(1, round(FULL_EVENTS * scale)),
            orders=max(1, round(FULL_ORDERS * scale)),
        )


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: Decimal


def customer_external_id(number: int) -> str:
    return f"crm-{number:07d}"


def customer_number(external_id: str) -> int:
    """The inverse of customer_external_id; the COPY phase uses it as the customer's primary key."""
    return int(external_id.removeprefix("crm-"))


def _moment(rng: random.Random) -> datetime:
    return HISTORY_END - timedelta(seconds=rng.randrange(HISTORY_SECONDS))


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def catalogue() -> list[Product]:
    rng = random.Random(4)
    return [
        Product(
            sku=f"SKU-{number:05d}",
            name=f"Товар {number}",
            category=rng.choice(CATEGORIES),
            price=Decimal(rng.randrange(9_900, 9_999_900, 10)).scaleb(-2),
        )
        for number in range(1, CATALOGUE_SIZE + 1)
    ]


def customers(count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(1)
    for number in range(1, count + 1):
        first_name, first_latin = rng.choice(FIRST_NAMES)
        last_name, last_latin = rng.choice(LAST_NAMES)
        if first_name.endswith(("а", "я")):
            last_name += "а"  # Иванова, not Иванов
        birth_date = datetime(1960, 1, 1) + timedelta(days=rng.randrange(45 * 365))
        yield {
            "external_id": customer_external_id(number),
            # The number makes each email and phone unique; the letters make them look real.
            "email": f"{first_latin.title()}.{last_latin}{number}@{rng.choice(EMAIL_DOMAINS)}",
            "phone": f"+7{rng.choice(MOBILE_CODES)}{number:07d}",
            "first_name": first_name,
            "last_name": last_name,
            "locale": "ru-RU",
            "timezone": rng.choice(TIME_ZONES),
            "birth_date": birth_date.date().isoformat(),
            "lifecycle_stage": rng.choice(LIFECYCLE_STAGES),
        }


def events(count: int, customer_count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(2)
    skus = [product.sku for product in catalogue()]
    for number in range(1, count + 1):
        name = rng.choices(EVENT_NAMES, EVENT_WEIGHTS)[0]
        if name in ("product_view", "add_to_cart"):
            sku = rng.choice(skus)
            properties: dict[str, Any] = {"sku": sku, "url": f"/p/{sku}"}
        elif name == "search":
            properties = {"query": rng.choice(SEARCHES), "results": rng.randrange(100)}
        elif name == "email_open":
            properties = {"campaign": f"digest-{rng.randrange(1, 40)}"}
        else:
            properties = {"url": f"/catalog/{rng.randrange(1, 500)}"}
        yield {
            "event_id": f"ev-{number:08d}",
            "customer_external_id": customer_external_id(rng.randint(1, customer_count)),
            "name": name,
            "properties": properties,
            "occurred_at": _rfc3339(_moment(rng)),
        }


def orders(count: int, customer_count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(3)
    products = catalogue()
    for number in range(1, count + 1):
        items = []
        for product in rng.sample(products, rng.randint(1, 3)):
            items.append(
                {
                    "sku": product.sku,
                    "name": product.name,
                    "category": product.category,
                    "quantity": rng.randint(1, 3),
                    "price": str(product.price),
                }
            )
        total = sum(Decimal(item["price"]) * item["quantity"] for item in items)
        yield {
            "external_id": f"ord-{number:07d}",
            "customer_external_id": customer_external_id(rng.randint(1, customer_count)),
            "status": rng.choices(ORDER_STATUSES, ORDER_STATUS_WEIGHTS)[0],
            "placed_at": _rfc3339(_moment(rng)),
            "total": str(total),
            "currency": "RUB",
            "promo_code": "SPRING10" if rng.random() < 0.1 else "",
            "items": items,
        }
