"""API v1 for surveys: definitions (list, create, get, change, archive), sending, answers and
scores. Views validate with pydantic, call one service or selector, serialise."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api import surveys_schemas as s
from analytics.api.paging import AnswerCursor, ByIdCursor
from analytics.models.surveys import Survey, SurveyAnswer, SurveySource
from analytics.surveys.definitions import survey_create, survey_update
from analytics.surveys.scores import (
    Score,
    ScoreFilter,
    survey_distribution,
    survey_score,
    survey_scores_by,
)
from analytics.surveys.sending import survey_send_many
from api.errors import ValidationFailed
from api.idempotency import IDEMPOTENCY_HEADER, idempotent
from api.models import ApiScope
from api.schema import error_responses
from customers.api.schemas import parse
from customers.models import Customer, Segment

READ_ERRORS = (400, 401, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
PAGING_PARAMS = ("cursor", "limit")


def _query(model, request):
    """The query string (less the paging parameters) validated like a body: 400 naming the
    parameter for a bad or unknown one."""
    params = {k: v for k, v in request.query_params.items() if k not in PAGING_PARAMS}
    return parse(model, params)


def _refused(error: DjangoValidationError) -> ValidationFailed:
    """A service's ValidationError (a dict naming fields) as the API's 400."""
    errors = [
        {"field": field, "message": message}
        for field, messages in error.message_dict.items()
        for message in messages
    ]
    return ValidationFailed(errors)


def _survey(survey_id: int) -> Survey:
    return get_object_or_404(Survey, pk=survey_id)


def _texts(data, fields) -> dict:
    out = {}
    for name in fields:
        value = getattr(data, name)
        if name == "whatsapp_template":
            value = value.model_dump() if value is not None else {}
        out[name] = value
    return out


class SurveyListCreateView(generics.ListAPIView):
    serializer_class = s.SurveySerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Survey.objects.none()
        query = _query(s.SurveysQuery, self.request)
        surveys = Survey.objects.all()
        if query.kind:
            surveys = surveys.filter(kind=query.kind)
        if query.archived is not None:
            surveys = surveys.filter(archived_at__isnull=not query.archived)
        return surveys

    @extend_schema(
        summary="List surveys, newest first",
        parameters=[
            OpenApiParameter("kind", str, enum=["nps", "csat", "ces"], required=False),
            OpenApiParameter("archived", bool, required=False),
        ],
        responses={200: s.SurveySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a survey from its kind's ready-made texts",
        description="The question, the “why?” follow-up and the thanks come ready in Russian, "
        "English and Romanian; languages given replace them. The kind is fixed for good.",
        request=s.SurveyIn,
        responses={201: s.SurveySerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.SurveyIn, request.data)
        fields = _texts(data, ["question", "follow_up", "thanks", "whatsapp_template"])
        try:
            survey = survey_create(
                data.kind,
                data.name,
                open_conversation_on_detractor=data.open_conversation_on_detractor,
                **fields,
            )
        except DjangoValidationError as error:
            raise _refused(error) from None
        return Response(s.SurveySerializer(survey).data, status=status.HTTP_201_CREATED)


class SurveyDetailView(APIView):
    @extend_schema(
        summary="Get a survey",
        responses={200: s.SurveySerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, survey_id: int):
        return Response(s.SurveySerializer(_survey(survey_id)).data)

    @extend_schema(
        summary="Change a survey, archive or restore it",
        description="Fields left out are not changed; texts merge per language "
        '({"question": {"ro": "…"}} changes Romanian only). The kind never changes.',
        request=s.SurveyPatch,
        responses={200: s.SurveySerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, survey_id: int):
        survey = _survey(survey_id)
        data = parse(s.SurveyPatch, request.data)
        given = set(data.model_fields_set)
        for name in given - {"whatsapp_template"}:
            if getattr(data, name) is None:
                raise ValidationFailed([{"field": name, "message": "must not be null"}])
        try:
            survey = survey_update(survey, **_texts(data, given))
        except DjangoValidationError as error:
            raise _refused(error) from None
        return Response(s.SurveySerializer(survey).data)


class SurveySendView(APIView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}

    @extend_schema(
        summary="Send the survey to customers or to a segment's members",
        description="Each customer gets one invitation on the channel given, or on their best "
        "channel with consent; the delivery policy (consent, caps, quiet hours) may refuse "
        "some (`unsent`, with the reason on the message). With an Idempotency-Key a retry "
        "replays the first answer and never sends twice. Scope `messages:send`.",
        request=s.SurveySendIn,
        responses={200: s.SurveySendResultSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    @idempotent
    def post(self, request, survey_id: int):
        survey = _survey(survey_id)
        data = parse(s.SurveySendIn, request.data)
        customers = _audience(data)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        try:
            with transaction.atomic():
                sends = survey_send_many(
                    survey,
                    customers,
                    channel=data.channel,
                    source=SurveySource.API,
                    idempotency_key_prefix=f"api:{survey.pk}:{key}" if key else None,
                )
        except DjangoValidationError as error:
            raise _refused(error) from None
        external_ids = {c.pk: c.external_id for c in customers}
        rows = [
            {
                "id": send.pk,
                "customer_external_id": external_ids[send.customer_id],
                "channel": send.channel,
                "state": send.state,
                "message_id": send.message_id,
                "sent_at": send.sent_at,
                "expires_at": send.expires_at,
            }
            for send in sends
        ]
        unsent = sum(1 for row in rows if row["state"] == "unsent")
        body = {"sent": len(rows) - unsent, "unsent": unsent, "sends": rows}
        return Response(s.SurveySendResultSerializer(body).data)


def _audience(data) -> list[Customer]:
    """The customers by external id (an unknown one is a 400 naming its index), or the segment's
    members (an unknown segment, or one too large for a request, is a 400 naming it)."""
    live = Customer.objects.filter(erased_at__isnull=True)
    if data.customers is not None:
        found = {c.external_id: c for c in live.filter(external_id__in=data.customers)}
        missing = [
            {"field": f"customers[{i}]", "code": "not_found", "message": "no such customer"}
            for i, external_id in enumerate(data.customers)
            if external_id not in found
        ]
        if missing:
            raise ValidationFailed(missing)
        return [found[external_id] for external_id in data.customers]
    if not Segment.objects.filter(pk=data.segment).exists():
        raise ValidationFailed([{"field": "segment", "code": "not_found", "message": "no such id"}])
    members = list(
        live.filter(segment_memberships__segment_id=data.segment).order_by("pk")[
            : s.MAX_SEND_SEGMENT + 1
        ]
    )
    if len(members) > s.MAX_SEND_SEGMENT:
        raise ValidationFailed(
            [
                {
                    "field": "segment",
                    "message": f"more than {s.MAX_SEND_SEGMENT} members: send it in a broadcast",
                }
            ]
        )
    return members


def _answers():
    return SurveyAnswer.objects.select_related("survey", "send", "customer")


def _filter_answers(answers, query):
    if query.survey is not None:
        answers = answers.filter(survey_id=query.survey)
    if query.kind:
        answers = answers.filter(survey__kind=query.kind)
    if query.channel:
        answers = answers.filter(channel=query.channel)
    if query.customer:
        answers = answers.filter(customer__external_id=query.customer)
    if query.answered_since:
        answers = answers.filter(answered_at__gte=query.answered_since)
    if query.answered_until:
        answers = answers.filter(answered_at__lt=query.answered_until)
    if query.score_min is not None:
        answers = answers.filter(score__gte=query.score_min)
    if query.score_max is not None:
        answers = answers.filter(score__lte=query.score_max)
    if query.has_comment is not None:
        answers = answers.exclude(comment="") if query.has_comment else answers.filter(comment="")
    return answers


ANSWER_PARAMETERS = [
    OpenApiParameter("kind", str, enum=["nps", "csat", "ces"], required=False),
    OpenApiParameter(
        "channel",
        str,
        enum=["email", "sms", "whatsapp", "telegram", "viber", "push"],
        required=False,
    ),
    OpenApiParameter("customer", str, required=False, description="A customer's external id."),
    OpenApiParameter("answered_since", str, required=False, description="ISO 8601, inclusive."),
    OpenApiParameter("answered_until", str, required=False, description="ISO 8601, exclusive."),
    OpenApiParameter("score_min", int, required=False),
    OpenApiParameter("score_max", int, required=False),
    OpenApiParameter("has_comment", bool, required=False),
]


class SurveyAnswersView(generics.ListAPIView):
    serializer_class = s.SurveyAnswerSerializer
    pagination_class = AnswerCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SurveyAnswer.objects.none()
        survey = _survey(self.kwargs["survey_id"])
        query = _query(s.SurveyAnswersQuery, self.request)
        return _filter_answers(_answers().filter(survey=survey), query)

    @extend_schema(
        summary="A survey's answers, newest first",
        parameters=[p for p in ANSWER_PARAMETERS if p.name != "kind"],
        responses={200: s.SurveyAnswerSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AnswerListView(generics.ListAPIView):
    serializer_class = s.SurveyAnswerSerializer
    pagination_class = AnswerCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SurveyAnswer.objects.none()
        return _filter_answers(_answers(), _query(s.AnswersQuery, self.request))

    @extend_schema(
        summary="Every survey's answers, newest first",
        parameters=[OpenApiParameter("survey", int, required=False), *ANSWER_PARAMETERS],
        responses={200: s.SurveyAnswerSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _score_body(score: Score) -> dict:
    def bound(interval, side):
        return None if interval is None else round(getattr(interval, side), 4)

    def rounded(value):
        return None if value is None else round(value, 4)

    return {
        "sends": score.sends,
        "responses": score.responses,
        "response_rate": rounded(score.response_rate),
        "score": rounded(score.score),
        "score_low": bound(score.score_interval, "low"),
        "score_high": bound(score.score_interval, "high"),
        "mean": rounded(score.mean),
        "mean_low": bound(score.mean_interval, "low"),
        "mean_high": bound(score.mean_interval, "high"),
        "top": score.top,
        "middle": score.middle,
        "bottom": score.bottom,
        "top_percent": rounded(score.top_percent),
        "top_low": bound(score.top_interval, "low"),
        "top_high": bound(score.top_interval, "high"),
        "bottom_percent": rounded(score.bottom_percent),
    }


def _key(key) -> str:
    return key.date().isoformat() if hasattr(key, "date") else str(key)


class SurveyScoresView(APIView):
    @extend_schema(
        summary="A survey's score, distribution and, optionally, the score per group",
        description="NPS = % promoters (9–10) − % detractors (0–6), CSAT = % of 4–5, CES = the "
        "average and % of 6–7 − % of 1–3, each with its responses, sends, response rate and a "
        "95 % interval. Sends are counted by when they went out; `unsent` ones are not.",
        parameters=[
            OpenApiParameter("sent_since", str, required=False, description="ISO 8601."),
            OpenApiParameter("sent_until", str, required=False, description="ISO 8601."),
            OpenApiParameter(
                "channel",
                str,
                enum=["email", "sms", "whatsapp", "telegram", "viber", "push"],
                required=False,
            ),
            OpenApiParameter("segment", int, required=False),
            OpenApiParameter("journey", int, required=False),
            OpenApiParameter("broadcast", int, required=False),
            OpenApiParameter(
                "group_by",
                str,
                enum=["period", "channel", "segment", "journey", "broadcast"],
                required=False,
            ),
            OpenApiParameter("grain", str, enum=["day", "week", "month"], required=False),
        ],
        responses={200: s.SurveyScoresSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, survey_id: int):
        survey = _survey(survey_id)
        query = _query(s.ScoresQuery, request)
        filters = ScoreFilter(
            start=query.sent_since,
            end=query.sent_until,
            channel=query.channel,
            segment_id=query.segment,
            journey_id=query.journey,
            broadcast_id=query.broadcast,
        )
        groups = []
        if query.group_by:
            with timezone.override("UTC"):
                groups = [
                    {"key": _key(key), **_score_body(score)}
                    for key, score in survey_scores_by(
                        survey, query.group_by, filters, grain=query.grain
                    )
                ]
        body = {
            "survey": survey.pk,
            "kind": survey.kind,
            "total": _score_body(survey_score(survey, filters)),
            "distribution": [
                {"score": score, "answers": n} for score, n in survey_distribution(survey, filters)
            ],
            "group_by": query.group_by,
            "groups": groups,
        }
        return Response(s.SurveyScoresSerializer(body).data)
