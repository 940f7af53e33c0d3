"""Signed survey links: the send (and, for email's one-click links, the score) in the URL.

`django.core.signing` with its own salt, so no other signed value of Kaskad opens a survey; the
signature carries its time, and a link older than `TOKEN_MAX_AGE` (14 days) is refused.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "analytics.surveys.link"
TOKEN_MAX_AGE = timedelta(days=14)


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def survey_token(send_id: int, score: int | None = None) -> str:
    value = {"s": send_id} if score is None else {"s": send_id, "v": score}
    return signing.dumps(value, salt=SALT, compress=False)


def survey_token_read(token: str) -> tuple[int, int | None]:
    """(send id, score or None); raises TokenExpired or TokenInvalid."""
    try:
        value = signing.loads(token, salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise TokenExpired from exc
    except signing.BadSignature as exc:
        raise TokenInvalid from exc
    if not isinstance(value, dict) or not isinstance(value.get("s"), int):
        raise TokenInvalid
    score = value.get("v")
    if score is not None and not isinstance(score, int):
        raise TokenInvalid
    return value["s"], score


def survey_page_url(send_id: int) -> str:
    """The web survey: the scale as buttons, then the comment."""
    path = reverse("survey-page", kwargs={"token": survey_token(send_id)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def survey_score_url(send_id: int, score: int) -> str:
    """Email's one-click link: opening it records `score` and asks for the comment."""
    path = reverse("survey-score", kwargs={"token": survey_token(send_id, score)})
    return f"{settings.PUBLIC_BASE_URL}{path}"
