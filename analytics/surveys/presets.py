"""The ready-made texts of each kind, in Russian, English and Romanian.

They are content, not interface: `survey_create` copies them into the survey, where staff may
edit them, so they are plain strings per language rather than gettext messages.
"""

from analytics.models.surveys import SurveyKind

LANGUAGES = ("ru", "en", "ro")

PRESETS: dict[str, dict[str, dict[str, str]]] = {
    SurveyKind.NPS: {
        "question": {
            "ru": "Насколько вероятно, что вы порекомендуете нас друзьям или коллегам?",
            "en": "How likely are you to recommend us to a friend or colleague?",
            "ro": "Cât de probabil este să ne recomandați unui prieten sau coleg?",
        },
        "follow_up": {
            "ru": "Спасибо! Что стало главной причиной вашей оценки?",
            "en": "Thank you! What is the main reason for your score?",
            "ro": "Vă mulțumim! Care este motivul principal al notei acordate?",
        },
        "thanks": {
            "ru": "Спасибо за отзыв — он помогает нам становиться лучше.",
            "en": "Thank you for your feedback — it helps us get better.",
            "ro": "Vă mulțumim pentru părere — ne ajută să devenim mai buni.",
        },
    },
    SurveyKind.CSAT: {
        "question": {
            "ru": "Насколько вы довольны нашим обслуживанием?",
            "en": "How satisfied are you with our service?",
            "ro": "Cât de mulțumit sunteți de serviciile noastre?",
        },
        "follow_up": {
            "ru": "Спасибо! Что больше всего повлияло на вашу оценку?",
            "en": "Thank you! What influenced your rating the most?",
            "ro": "Vă mulțumim! Ce a influențat cel mai mult nota dumneavoastră?",
        },
        "thanks": {
            "ru": "Спасибо, что уделили нам минуту!",
            "en": "Thank you for taking a moment to tell us!",
            "ro": "Vă mulțumim că ne-ați acordat un minut!",
        },
    },
    SurveyKind.CES: {
        "question": {
            "ru": "Насколько легко вам было решить свой вопрос с нами?",
            "en": "How easy was it to get your request sorted with us?",
            "ro": "Cât de ușor v-a fost să vă rezolvați solicitarea cu noi?",
        },
        "follow_up": {
            "ru": "Спасибо! Что упростило или, наоборот, усложнило задачу?",
            "en": "Thank you! What made it easy — or hard?",
            "ro": "Vă mulțumim! Ce a făcut totul ușor sau, dimpotrivă, dificil?",
        },
        "thanks": {
            "ru": "Спасибо! Мы учтём ваш ответ, чтобы всё было проще.",
            "en": "Thank you! We will use your answer to make things simpler.",
            "ro": "Vă mulțumim! Vom folosi răspunsul dumneavoastră ca totul să fie mai simplu.",
        },
    },
}


def text_for(texts: dict, language: str) -> str:
    """The text in `language`, else English, else any language the survey has."""
    texts = texts or {}
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
