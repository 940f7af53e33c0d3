"""Reference data for the demo: catalogue, markets, names and how people behave."""

from dataclasses import dataclass
from decimal import Decimal

from customers.api.schemas import MAX_BATCH_ITEMS
from customers.models import (
    AttributeDefinition,
)

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
