"""Demo surveys for `make run`: an NPS after purchase, a CSAT for support and a CES for checkout,
sent month by month over the past nine months and answered by a share of the customers, so the
survey pages show trends, distributions and comments.

Everything goes through the services (`survey_create`, `survey_send_many`, which applies consent,
caps and quiet hours, and `survey_answer_record`, which writes the events and the timeline); the
sends, answers and their events are then moved back to the month they stand for, as the
broadcast demo moves its reactions. Deterministic (fixed seed); loading twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from analytics.models.surveys import Survey, SurveyAnswer, SurveyKind, SurveySend, SurveySource
from analytics.surveys.answers import EVENT_NAME, survey_answer_record
from analytics.surveys.definitions import survey_create
from analytics.surveys.sending import survey_send_many
from campaigns.broadcasts.models import Broadcast
from campaigns.journeys.models import Journey
from customers.models import Customer, Event

MONTHS = 9
PER_MONTH = 45  # customers asked per survey and month
SEED = 13
CHANNELS = [None, None, "email", "sms", "telegram"]  # None: each customer's best channel
# (name, kind, answer probability, score weights from the lowest point up, monthly drift up)
SURVEYS = [
    (
        "NPS после покупки",
        SurveyKind.NPS,
        0.42,
        [3, 2, 2, 3, 3, 5, 7, 12, 18, 22, 23],
    ),
    ("CSAT поддержки", SurveyKind.CSAT, 0.5, [6, 7, 14, 38, 35]),
    ("CES оформления заказа", SurveyKind.CES, 0.38, [4, 5, 8, 14, 20, 27, 22]),
]
COMMENTS = {
    "low": [
        "Доставка задержалась на три дня, никто не предупредил.",
        "Курьер не позвонил заранее.",
        "Долго ждал ответа поддержки.",
        "Сайт зависал при оплате картой.",
        "Товар пришёл не того размера.",
    ],
    "mid": [
        "В целом нормально, но выбор мог бы быть шире.",
        "Цены выросли, раньше было выгоднее.",
        "Всё хорошо, но упаковка помятая.",
    ],
    "high": [
        "Быстро привезли, всё отлично!",
        "Удобное приложение и бонусы.",
        "Оператор решил вопрос за пять минут, спасибо.",
        "Заказываю не первый раз — всегда довольна.",
        "Great service, fast delivery.",
    ],
}


def surveys_demo_load() -> dict[str, int]:
    """{survey name: answers} for the demo surveys; those already there are left as they are."""
    rng = random.Random(SEED)
    customers = list(Customer.objects.filter(erased_at__isnull=True).order_by("pk"))
    # Some months' sends stand for a journey's survey step or a broadcast's, so the results can
    # be cut by journey and broadcast too (the campaigns demo made them; none is fine).
    sources = {
        "journey": Journey.objects.order_by("pk").values_list("pk", flat=True).first(),
        "broadcast": Broadcast.objects.order_by("pk").values_list("pk", flat=True).first(),
    }
    loaded = {}
    for name, kind, answer_rate, weights in SURVEYS:
        if Survey.objects.filter(name=name).exists() or not customers:
            continue
        survey = survey_create(kind, name, open_conversation_on_detractor=False)
        loaded[name] = _fill(survey, customers, rng, answer_rate, weights, sources)
    return loaded


def _origin(months_ago: int, sources: dict) -> dict:
    """Where a month's sends came from: every third month a journey, every fourth a broadcast."""
    if months_ago % 3 == 0 and sources["journey"]:
        return {"source": SurveySource.JOURNEY, "journey_id": sources["journey"],
                "journey_step": "survey"}  # fmt: skip
    if months_ago % 4 == 0 and sources["broadcast"]:
        return {"source": SurveySource.BROADCAST, "broadcast_id": sources["broadcast"]}
    return {"source": SurveySource.MANUAL}


def _fill(survey, customers, rng, answer_rate, weights, sources) -> int:
    low, high = survey.scale
    now = timezone.now()
    answered = 0
    for months_ago in range(MONTHS, 0, -1):
        sent_at = now - timedelta(days=30 * months_ago - rng.randrange(0, 25), hours=rng.random())
        # Scores improve a little month by month: the top points weigh more as time goes on.
        drift = [w * (1 + 0.06 * (MONTHS - months_ago) * i / (high - low)) for i, w in
                 enumerate(weights)]  # fmt: skip
        channel = rng.choice(CHANNELS)
        with transaction.atomic():
            sends = survey_send_many(
                survey,
                rng.sample(customers, min(PER_MONTH, len(customers))),
                **_origin(months_ago, sources),
                channel=channel,
                idempotency_key_prefix=f"demo:{survey.pk}:{months_ago}",
            )
            for send in sends:
                if send.state == SurveySend.State.UNSENT or rng.random() > answer_rate:
                    continue
                score = rng.choices(range(low, high + 1), drift)[0]
                survey_answer_record(send, score=score)
                if rng.random() < 0.45:
                    survey_answer_record(send, comment=rng.choice(COMMENTS[_band(survey, score)]))
                answered += 1
            _backdate(sends, sent_at, rng)
    return answered


def _band(survey, score: int) -> str:
    top, bottom = {SurveyKind.NPS: (9, 6), SurveyKind.CSAT: (4, 2), SurveyKind.CES: (6, 3)}[
        SurveyKind(survey.kind)
    ]
    return "high" if score >= top else "low" if score <= bottom else "mid"


def _backdate(sends, sent_at, rng) -> None:
    """Move the month's sends, their answers and the answers' events back to `sent_at`."""
    ids = [s.pk for s in sends]
    SurveySend.objects.filter(pk__in=ids).update(
        sent_at=sent_at, expires_at=sent_at + timedelta(days=14)
    )
    for answer in SurveyAnswer.objects.filter(send_id__in=ids):
        at = sent_at + timedelta(hours=rng.uniform(0.2, 72))
        SurveyAnswer.objects.filter(pk=answer.pk).update(answered_at=at, updated_at=at)
        Event.objects.filter(
            name=EVENT_NAME, event_id__startswith=f"survey:{answer.send_id}:"
        ).update(occurred_at=at)
