"""What the customer reads around the survey's own texts (reply hints, re-asks, email lines,
scale ends), in the customer's language through Django i18n."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from analytics.models.surveys import Survey, SurveyKind
from analytics.surveys.presets import text_for
from channels.tracking.services import customer_language  # "ru-RU" → "ru"; else "en"

__all__ = ["chat_question", "chat_reask", "customer_language", "scale_ends", "survey_text"]


def survey_text(survey: Survey, field: str, language: str) -> str:
    return text_for(getattr(survey, field), language)


def scale_ends(kind: str) -> tuple[str, str]:
    """The words under the lowest and the highest score, in the active language."""
    if kind == SurveyKind.NPS:
        return _("Not at all likely"), _("Extremely likely")
    if kind == SurveyKind.CSAT:
        return _("Very dissatisfied"), _("Very satisfied")
    return _("Very difficult"), _("Very easy")


def reply_hint(survey: Survey) -> str:
    low, high = survey.scale
    low_word, high_word = scale_ends(survey.kind)
    return _("Reply with a number from %(low)d (%(low_word)s) to %(high)d (%(high_word)s).") % {
        "low": low,
        "high": high,
        "low_word": low_word.lower(),
        "high_word": high_word.lower(),
    }


def chat_question(survey: Survey, language: str) -> str:
    with translation.override(language):
        return f"{survey_text(survey, 'question', language)}\n{reply_hint(survey)}"


def chat_reask(survey: Survey, language: str) -> str:
    low, high = survey.scale
    with translation.override(language):
        return _(
            "Sorry, we could not read a score there. Please reply with just one number "
            "from %(low)d to %(high)d."
        ) % {"low": low, "high": high}


def push_hint(language: str) -> str:
    with translation.override(language):
        return _("Tap to answer: it takes a few seconds.")
