"""Generates the demo's customers, orders and events from one seeded random generator."""

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from customers.demo.reference import (
    BUYER_PROFILES,
    CATALOGUE,
    DEMO_PREFIX,
    EMAIL_CAMPAIGNS,
    EMAIL_DOMAINS,
    HISTORY_DAYS,
    HOUR_WEIGHTS,
    MARKETS,
    PROMO_CODES,
    RECENCY,
    SEARCH_QUERIES,
    SEED,
    TRANSLIT,
    US_AREA_CODES,
    Market,
    catalogue_price,
    catalogue_sku,
)
from customers.models import (
    LifecycleStage,
)
from customers.normalize import normalize_phone


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
