"""Demo templates, in Russian and English, made through the services like a marketer would."""

from campaigns.message_templates.models import Template
from campaigns.message_templates.services import template_create

WELCOME_HTML_RU = """<h1>Здравствуйте, {{ customer.first_name | default: "друг" }}!</h1>
<p>Спасибо, что присоединились к нам. Ваша первая покупка — со скидкой.</p>
{% if promo_code.code %}<p>Ваш промокод: <strong>{{ promo_code.code }}</strong></p>{% endif %}
<p><a href="https://shop.example.com/new">Смотреть новинки</a></p>
<p><small><a href="{{ preferences_url }}">Настроить рассылки</a></small></p>"""

WELCOME_HTML_EN = """<h1>Hello, {{ customer.first_name | default: "friend" }}!</h1>
<p>Thank you for joining us. Your first order comes with a discount.</p>
{% if promo_code.code %}<p>Your promo code: <strong>{{ promo_code.code }}</strong></p>{% endif %}
<p><a href="https://shop.example.com/new">See what is new</a></p>
<p><small><a href="{{ preferences_url }}">Email preferences</a></small></p>"""

DEMO_TEMPLATES = [
    {
        "name": "Приветственное письмо",
        "description": "Первое письмо после регистрации.",
        "category": "marketing",
        "variants": {
            "email": {
                "subject": "{{ customer.first_name | default: 'Добро пожаловать' }}, рады знакомству!",
                "html": WELCOME_HTML_RU,
            }
        },
    },
    {
        "name": "Welcome email",
        "description": "The first email after sign-up.",
        "category": "marketing",
        "variants": {
            "email": {
                "subject": "Welcome, {{ customer.first_name | default: 'friend' }}!",
                "html": WELCOME_HTML_EN,
            }
        },
    },
    {
        "name": "SMS: промокод на выходные",
        "description": "Короткое SMS с промокодом, если он есть.",
        "category": "marketing",
        "variants": {
            "sms": {
                "body": "{{ customer.first_name | default: 'Привет' }}! Скидка 15% до воскресенья"
                "{% if promo_code.code %} по коду {{ promo_code.code }}{% endif %}: "
                "shop.example.com/sale"
            }
        },
    },
    {
        "name": "Telegram: заказ готов",
        "description": "Сообщение о готовности заказа; номер передаёт отправитель.",
        "category": "transactional",
        "extras": ["order"],
        "variants": {
            "telegram": {
                "title": "Ваш заказ{% if order.number %} № {{ order.number }}{% endif %} готов",
                "body": "{{ customer.first_name | default: 'Здравствуйте' }}, заказ можно забрать "
                "в пункте выдачи в течение 5 дней.",
                "url": "https://shop.example.com/orders",
            }
        },
    },
]


def message_templates_demo_load() -> int:
    """Create the demo templates that are not there yet (by name); returns how many."""
    made = 0
    for spec in DEMO_TEMPLATES:
        if Template.objects.filter(name=spec["name"]).exists():
            continue
        template_create(**spec)
        made += 1
    return made
