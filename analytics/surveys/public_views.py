"""The public survey pages (/s/…): no login, the signed token in the URL is the proof.

- `/s/<token>/`: the question with the scale as buttons (push and any channel without replies);
- `/s/<token>/v`: email's one-click link (the score is signed into the token): records it;
- `/s/<token>/comment`: the one follow-up question; `/s/<token>/thanks`: the thanks.

Each page is in the customer's language (their locale, never the browser's). An expired link is a
friendly page with HTTP 410, a forged or altered one a friendly page with HTTP 400; neither stores
anything. Writes are POSTs with Django's CSRF token, answered with a redirect (no re-post on
reload); the one exception is the email link, whose GET is the customer's one click.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from analytics.models.surveys import SurveyAnswer, SurveySend
from analytics.surveys.answers import survey_answer_record
from analytics.surveys.texts import customer_language, scale_ends, survey_text
from analytics.surveys.tokens import TokenExpired, TokenInvalid, survey_token, survey_token_read

TEMPLATES = "analytics/surveys_public/"


class _Refused(Exception):
    def __init__(self, status: int, language: str = "en") -> None:
        self.status, self.language = status, language


def _send_for(token: str) -> tuple[SurveySend, int | None]:
    try:
        send_id, score = survey_token_read(token)
    except TokenExpired as exc:
        raise _Refused(410) from exc
    except TokenInvalid as exc:
        raise _Refused(400) from exc
    send = (
        SurveySend.objects.select_related("survey", "customer")
        .filter(pk=send_id)
        .exclude(state=SurveySend.State.UNSENT)
        .first()
    )
    if send is None:
        raise _Refused(400)
    if send.expires_at <= timezone.now():
        raise _Refused(410, customer_language(send.customer.locale))
    return send, score


def _page(
    request, send: SurveySend | None, template: str, context: dict, status=200, language=None
):
    language = language or customer_language(send.customer.locale)
    with translation.override(language):
        response = render(request, TEMPLATES + template, context, status=status)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    # The token must not leak to other sites; same-origin still lets the form carry its Origin.
    response["Referrer-Policy"] = "same-origin"
    return response


def _refused(request, refused: _Refused) -> HttpResponse:
    return _page(
        request,
        None,
        "refused.html",
        {"expired": refused.status == 410},
        status=refused.status,
        language=refused.language,
    )


def _scale_context(send: SurveySend, language: str, error: str = "") -> dict:
    low, high = send.survey.scale
    answer = SurveyAnswer.objects.filter(send=send).values_list("score", flat=True).first()
    with translation.override(language):
        low_word, high_word = scale_ends(send.survey.kind)
    return {
        "question": survey_text(send.survey, "question", language),
        "scores": list(range(low, high + 1)),
        "wide": high - low >= 10,
        "chosen": answer,
        "low_word": low_word,
        "high_word": high_word,
        "error": error,
    }


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        send, _score = _send_for(token)
    except _Refused as refused:
        return _refused(request, refused)
    language = customer_language(send.customer.locale)
    if request.method == "GET":
        return _page(request, send, "scale.html", _scale_context(send, language))
    raw = request.POST.get("score", "")
    try:
        score = int(raw)
    except ValueError:
        score = None
    try:
        if score is None:
            raise ValidationError({"score": ["not a number"]})
        survey_answer_record(send, score=score)
    except ValidationError:
        with translation.override(language):
            message = _("Choose one of the scores below.")
        return _page(
            request, send, "scale.html", _scale_context(send, language, message), status=400
        )
    return redirect("survey-comment", token=survey_token(send.pk))


@never_cache
@require_GET
def survey_score(request: HttpRequest, token: str) -> HttpResponse:
    """Email's one-click link: the click is the answer; then the comment page."""
    try:
        send, score = _send_for(token)
        if score is None:
            raise _Refused(400)
        survey_answer_record(send, score=score)
    except _Refused as refused:
        return _refused(request, refused)
    except ValidationError:
        return _refused(request, _Refused(400))
    return redirect("survey-comment", token=survey_token(send.pk))


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def survey_comment(request: HttpRequest, token: str) -> HttpResponse:
    try:
        send, _score = _send_for(token)
    except _Refused as refused:
        return _refused(request, refused)
    answer = SurveyAnswer.objects.filter(send=send).first()
    if answer is None:  # no score yet: ask it first
        return redirect("survey-page", token=token)
    language = customer_language(send.customer.locale)
    context = {
        "follow_up": survey_text(send.survey, "follow_up", language),
        "score": answer.score,
        "high": send.survey.scale[1],
        "comment": answer.comment,
        "token": token,
        "error": "",
    }
    if request.method == "GET":
        return _page(request, send, "comment.html", context)
    try:
        survey_answer_record(send, comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        context["error"] = exc.message_dict.get("comment", [""])[0]
        context["comment"] = request.POST.get("comment", "")[:5000]
        return _page(request, send, "comment.html", context, status=400)
    return redirect("survey-thanks", token=token)


@never_cache
@require_GET
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        send, _score = _send_for(token)
    except _Refused as refused:
        return _refused(request, refused)
    language = customer_language(send.customer.locale)
    return _page(
        request, send, "thanks.html", {"thanks": survey_text(send.survey, "thanks", language)}
    )
