"""The opt-out line every marketing SMS carries, in the customer's language.

Russian law (38-FZ) and carrier rules elsewhere want a marketing text to say how to stop them; the
inbound STOP / СТОП keywords (channels.services.inbound) act on the answer. The line is added
before the message is stored, so the stored body and its part count are what the gateway bills.

Lines stay GSM-7 where the language allows (no diacritics in the Romanian one), so an otherwise
Latin text does not turn into UCS-2 and lose more than half its room.
"""

from __future__ import annotations

import re

from django.conf import settings

OPTOUT_LINES: dict[str, str] = {
    "ru": "Отписаться: СТОП в ответ",
    "en": "Reply STOP to opt out",
    "ro": "Dezabonare: raspunde STOP",
}
FALLBACK_LANGUAGE = "en"

_SPACES = re.compile(r"\s+")


def sms_optout_line(locale: str | None) -> str:
    """The opt-out line for a BCP 47 locale ("ru-RU", "ru", "en_GB"); the site language, then
    English, for a locale without one."""
    for candidate in (locale, settings.LANGUAGE_CODE, FALLBACK_LANGUAGE):
        language = (candidate or "").replace("_", "-").split("-")[0].lower()
        if language in OPTOUT_LINES:
            return OPTOUT_LINES[language]
    return OPTOUT_LINES[FALLBACK_LANGUAGE]


def sms_with_optout(body: str, locale: str | None) -> str:
    """`body` with the opt-out line on its own last line, unless it already has one.

    Any language's line counts, whatever its case or spacing: a template that already ends
    with "Reply STOP to opt out" gets no second line in Russian.
    """
    text = body.rstrip()
    normalised = _normalise(text)
    if any(_normalise(line) in normalised for line in OPTOUT_LINES.values()):
        return body
    line = sms_optout_line(locale)
    return f"{text}\n{line}" if text else line


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text).casefold()
