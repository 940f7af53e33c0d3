"""API v1 shapes for surveys: pydantic request bodies and query strings (validated at the edge;
the definitions service checks the texts and names the same fields), DRF serializers for the
responses and the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from rest_framework import serializers

from analytics.models.surveys import Survey, SurveyKind, SurveySource
from analytics.surveys.scores import GRAINS, GROUPS
from api.types import MAX_SAFE_INTEGER, UtcDatetime, text
from customers.api.schemas import Strict

Id = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
KindName = Literal[tuple(SurveyKind.values)]  # type: ignore[valid-type]
# Surveys go on every channel a customer can answer on (a voice call cannot carry one).
SendChannel = Literal["email", "sms", "whatsapp", "telegram", "viber", "push"]
Language = Literal["ru", "en", "ro"]
Texts = dict[Language, text(max_length=500, strip=True)]
ExternalId = text(min_length=1, max_length=255, strip=True)
MAX_SEND_CUSTOMERS = 1000
# A segment sent to through the API in one request; a larger audience belongs in a broadcast.
MAX_SEND_SEGMENT = 10_000


class WhatsappTemplateIn(Strict):
    name: text(min_length=1, max_length=512, strip=True)
    language: text(min_length=1, max_length=35, strip=True)


class SurveyIn(Strict):
    kind: KindName = Field(description="nps (0–10), csat (1–5) or ces (1–7); fixed for good.")
    name: text(min_length=1, max_length=200, strip=True)
    question: Texts | None = Field(
        default=None, description="Per language; languages left out get the kind's ready text."
    )
    follow_up: Texts | None = Field(default=None, description="The “why?” question.")
    thanks: Texts | None = None
    open_conversation_on_detractor: bool = False
    whatsapp_template: WhatsappTemplateIn | None = Field(
        default=None,
        description="An approved WhatsApp template for customers outside the 24-hour window; "
        "its one body parameter is the survey link.",
    )


class SurveyPatch(Strict):
    # Fields left out are not changed; texts merge per language.
    name: text(min_length=1, max_length=200, strip=True) = None  # type: ignore[assignment]
    question: Texts = None  # type: ignore[assignment]
    follow_up: Texts = None  # type: ignore[assignment]
    thanks: Texts = None  # type: ignore[assignment]
    open_conversation_on_detractor: bool = None  # type: ignore[assignment]
    whatsapp_template: WhatsappTemplateIn | None = None
    archived: bool = Field(
        default=None,  # type: ignore[arg-type]
        description="true archives (no more sends), false restores.",
    )


class SurveySendIn(Strict):
    customers: list[ExternalId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SEND_CUSTOMERS,
        description="Customers' external (CRM) ids.",
    )
    segment: Id | None = Field(
        default=None,
        description=f"Or a segment: its members now (at most {MAX_SEND_SEGMENT:,}).",
    )
    channel: SendChannel | None = Field(
        default=None, description="Leave out for each customer's best channel with consent."
    )

    @model_validator(mode="after")
    def _one_audience(self):
        if (self.customers is None) == (self.segment is None):
            raise ValueError("give either customers or segment")
        return self


class ScoresQuery(Strict):
    sent_since: UtcDatetime | None = Field(default=None, description="Sends from (inclusive).")
    sent_until: UtcDatetime | None = Field(default=None, description="Sends before.")
    channel: SendChannel | None = None
    segment: Id | None = Field(default=None, description="Customers in this segment.")
    journey: Id | None = Field(default=None, description="Sends from this journey.")
    broadcast: Id | None = Field(default=None, description="Sends from this broadcast.")
    group_by: Literal[GROUPS] | None = Field(  # type: ignore[valid-type]
        default=None, description="Also score each group; keys are dates or ids or channels."
    )
    grain: Literal[tuple(GRAINS)] = Field(  # type: ignore[valid-type]
        default="month", description="The period of group_by=period (UTC)."
    )


class AnswersQuery(Strict):
    survey: Id | None = None
    kind: KindName | None = None
    channel: SendChannel | None = None
    customer: ExternalId | None = Field(default=None, description="A customer's external id.")
    answered_since: UtcDatetime | None = None
    answered_until: UtcDatetime | None = None
    score_min: Annotated[int, Field(ge=0, le=10)] | None = None
    score_max: Annotated[int, Field(ge=0, le=10)] | None = None
    has_comment: bool | None = None


# --- Output -------------------------------------------------------------------------------------
class SurveySerializer(serializers.ModelSerializer):
    archived = serializers.SerializerMethodField()
    scale = serializers.ListField(child=serializers.IntegerField(), help_text="[lowest, highest]")

    class Meta:
        model = Survey
        fields = ["id", "name", "kind", "scale", "question", "follow_up", "thanks",
                  "open_conversation_on_detractor", "whatsapp_template", "archived",
                  "archived_at", "created_at", "updated_at"]  # fmt: skip

    def get_archived(self, survey) -> bool:
        return survey.archived_at is not None


class SurveySendSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_external_id = serializers.CharField()
    channel = serializers.CharField()
    state = serializers.CharField(help_text="score, comment, done; unsent: the policy refused it.")
    message_id = serializers.IntegerField(allow_null=True)
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class SurveySendResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Invitations stored to go out.")
    unsent = serializers.IntegerField(
        help_text="Refused by the delivery policy (consent, address, caps); see the messages."
    )
    sends = SurveySendSerializer(many=True)


class SurveyAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField(source="survey_id")
    kind = serializers.ChoiceField(choices=SurveyKind.choices, source="survey.kind")
    send = serializers.IntegerField(source="send_id")
    customer_external_id = serializers.CharField(
        source="customer.external_id", allow_null=True, help_text="null once erased."
    )
    channel = serializers.CharField()
    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(choices=SurveySource.choices, source="send.source")
    broadcast_id = serializers.IntegerField(source="send.broadcast_id", allow_null=True)
    journey_id = serializers.IntegerField(source="send.journey_id", allow_null=True)
    journey_step = serializers.CharField(source="send.journey_step", allow_blank=True)
    answered_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ScoreSerializer(serializers.Serializer):
    sends = serializers.IntegerField(help_text="Invitations that went out (refused ones not).")
    responses = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="responses ÷ sends, 0–1.")
    score = serializers.FloatField(
        allow_null=True,
        help_text="NPS: % promoters − % detractors; CSAT: % of 4–5; CES: % of 6–7 − % of 1–3.",
    )
    score_low = serializers.FloatField(allow_null=True, help_text="95 % interval.")
    score_high = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True, help_text="The average score (CES's headline).")
    mean_low = serializers.FloatField(allow_null=True, help_text="95 % t interval.")
    mean_high = serializers.FloatField(allow_null=True)
    top = serializers.IntegerField(help_text="Promoters, 4–5, or 6–7.")
    middle = serializers.IntegerField()
    bottom = serializers.IntegerField(help_text="Detractors (0–6), 1–2, or 1–3.")
    top_percent = serializers.FloatField(allow_null=True)
    top_low = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval.")
    top_high = serializers.FloatField(allow_null=True)
    bottom_percent = serializers.FloatField(allow_null=True)


class ScoreGroupSerializer(ScoreSerializer):
    key = serializers.CharField(
        help_text="The period's first day (YYYY-MM-DD), the channel, or the segment, journey "
        "or broadcast id."
    )


class DistributionSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    answers = serializers.IntegerField()


class SurveyScoresSerializer(serializers.Serializer):
    survey = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=SurveyKind.choices)
    total = ScoreSerializer()
    distribution = DistributionSerializer(many=True)
    group_by = serializers.CharField(allow_null=True)
    groups = ScoreGroupSerializer(many=True)


class SurveysQuery(Strict):
    kind: KindName | None = None
    archived: bool | None = None


class SurveyAnswersQuery(Strict):
    channel: SendChannel | None = None
    customer: ExternalId | None = Field(default=None, description="A customer's external id.")
    answered_since: UtcDatetime | None = None
    answered_until: UtcDatetime | None = None
    score_min: Annotated[int, Field(ge=0, le=10)] | None = None
    score_max: Annotated[int, Field(ge=0, le=10)] | None = None
    has_comment: bool | None = None
    # The survey comes from the path.
    survey: None = None
    kind: None = None
