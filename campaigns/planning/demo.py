"""Demo planning documents, through the services: a journey map for an online shop with its cells
filled in Russian, and an AIDA strategy tagged with the demo templates and broadcast. Sends
nothing (safe outside the sandbox) and does nothing the second time (found by name)."""

from __future__ import annotations

from campaigns.broadcasts.demo import NAME as BROADCAST_NAME
from campaigns.broadcasts.models import Broadcast
from campaigns.message_templates.models import Template
from campaigns.planning.models import CommunicationStrategy, CustomerJourneyMap
from campaigns.planning.services import (
    StageSpec,
    cjm_cell_save,
    cjm_create,
    cjm_link_add,
    cjm_stages_replace,
    strategy_content_add,
    strategy_create,
)
from customers.models import Segment

CJM_NAME = "Интернет-магазин: покупатель"
STRATEGY_NAME = "Чёрная пятница: AIDA"
CHANNELS = ["email", "sms", "telegram", "push", "Сайт", "Колл-центр"]
# Stage name, the demo segment that holds its customers (where one fits), and per channel the
# touchpoints, goal, expectations, barriers and solutions.
STAGES = [
    ("Потребность", None, {
        "Сайт": ("Реклама, поиск, соцсети", "Понять, что нужно", "Понятный обзор", "Много шума", "Статьи-гиды"),
        "push": ("Подписка на сайте", "Не пропустить акции", "Редко и по делу", "Спам", "Частота ≤ 2 в неделю"),
    }),
    ("Поиск", None, {
        "Сайт": ("Каталог, фильтры", "Найти подходящий товар", "Быстрый поиск", "Нет фильтра по цене", "Фильтры и подборки"),
        "email": ("Приветственная серия", "Сравнить варианты", "Полезные подборки", "Письма не читают", "Персональные рекомендации"),
    }),
    ("Выбор", "Подписчики email", {
        "email": ("Брошенный просмотр", "Выбрать лучшее", "Отзывы и сравнение", "Сомнения в качестве", "Письмо с отзывами"),
        "Колл-центр": ("Звонок консультанта", "Уточнить детали", "Быстрый ответ", "Долгое ожидание", "Обратный звонок"),
    }),
    ("Покупка", "Gamers and streamers", {
        "Сайт": ("Корзина, оформление", "Купить быстро", "Простая оплата", "Длинная форма", "Оплата в один клик"),
        "sms": ("Код подтверждения, статус", "Знать статус заказа", "Мгновенно", "SMS не дошло", "Каскад: SMS → Telegram"),
    }),
    ("Использование", None, {
        "telegram": ("Бот поддержки", "Настроить товар", "Ответ за минуты", "Нет инструкции", "Видео-инструкции в боте"),
        "email": ("Письмо после доставки", "Разобраться с товаром", "Советы", "Письмо слишком длинное", "Короткие советы"),
    }),
    ("Лояльность", None, {
        "email": ("Программа лояльности", "Получать выгоду", "Понятные баллы", "Баллы сгорают незаметно", "Напоминание о баллах"),
        "push": ("Персональные акции", "Купить снова выгодно", "Релевантные предложения", "Нерелевантные акции", "Рекомендации по истории"),
    }),
    ("Рекомендация", "Champions not opening email", {
        "telegram": ("Реферальная ссылка", "Поделиться с друзьями", "Бонус за друга", "Сложно найти ссылку", "Ссылка в боте"),
        "Сайт": ("Отзывы, NPS-опрос", "Быть услышанным", "Ответ на отзыв", "Отзыв без ответа", "Ответ за 24 часа"),
    }),
]  # fmt: skip
CELL_FIELDS = ("touchpoints", "goal", "expectations", "barriers", "solutions")


def _segment(name: str | None) -> Segment | None:
    return Segment.objects.filter(name=name).first() if name else None


def _cjm_load() -> CustomerJourneyMap:
    cjm = CustomerJourneyMap.objects.filter(name=CJM_NAME).first()
    if cjm is not None:
        return cjm
    cjm = cjm_create(
        name=CJM_NAME,
        audience="Покупатели электроники онлайн",
        description="Путь покупателя от потребности до рекомендации друзьям.",
        channels=CHANNELS,
        stage_names=[],
    )
    cjm_stages_replace(
        cjm=cjm, stages=[StageSpec(name=name, segment=_segment(seg)) for name, seg, _c in STAGES]
    )
    broadcast = Broadcast.objects.filter(name=BROADCAST_NAME).first()
    welcome = Template.objects.filter(name="Приветственное письмо").first()
    for stage, (_name, _seg, cells) in zip(cjm.stages.all(), STAGES, strict=True):
        for channel, texts in cells.items():
            cell = cjm_cell_save(
                stage=stage, channel=channel, **dict(zip(CELL_FIELDS, texts, strict=True))
            )
            if stage.name == "Поиск" and channel == "email" and welcome:
                cjm_link_add(cell=cell, kind="template", object_id=welcome.pk)
            if stage.name == "Выбор" and channel == "email" and broadcast:
                cjm_link_add(cell=cell, kind="broadcast", object_id=broadcast.pk)
    return cjm


def _strategy_load() -> CommunicationStrategy:
    strategy = CommunicationStrategy.objects.filter(name=STRATEGY_NAME).first()
    if strategy is not None:
        return strategy
    strategy = strategy_create(
        name=STRATEGY_NAME,
        scheme="aida",
        segments=[s for s in (_segment("Подписчики email"), _segment("Gamers and streamers")) if s],
        audience="Подписчики email и покупатели видеокарт: ценят выгоду и скорость доставки.",
        goal="Поднять конверсию в покупку в неделю распродажи до 8 % (сейчас 5 %).",
        timing="За 3 дня до старта — анонс, в день старта — письмо, в последний день — SMS.",
        tone="Дружелюбно и коротко, на «вы», без капслока; выгода в первой строке.",
        channels=["email", "sms", "push"],
    )
    broadcast = Broadcast.objects.filter(name=BROADCAST_NAME).first()
    if broadcast:
        strategy_content_add(
            strategy=strategy, stage="attention", kind="broadcast", object_id=broadcast.pk
        )
    for stage, name in (
        ("interest", "Приветственное письмо"),
        ("desire", "SMS: промокод на выходные"),
        ("action", "Telegram: заказ готов"),
    ):
        template = Template.objects.filter(name=name).first()
        if template:
            strategy_content_add(
                strategy=strategy, stage=stage, kind="template", object_id=template.pk
            )
    return strategy


def planning_demo_load() -> tuple[CustomerJourneyMap, CommunicationStrategy]:
    return _cjm_load(), _strategy_load()
