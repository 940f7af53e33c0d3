"""API v1 shapes for journey maps and communication strategies: pydantic bodies in, DRF
serializers out (for the OpenAPI schema). The services check the rules (a link's target
exists, a stage belongs to the scheme) and their refusals come back as 400s naming the field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from rest_framework import serializers

from api.types import MAX_SAFE_INTEGER, text
from campaigns.planning.models import (
    CjmCell,
    CjmStage,
    CommunicationStrategy,
    ContentKind,
    CustomerJourneyMap,
    LinkKind,
    Scheme,
    StrategyContent,
)
from customers.api.schemas import Strict

Id = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
Name = text(min_length=1, max_length=200, strip=True)
LongText = text(max_length=5000)
ChannelText = text(min_length=1, max_length=40, strip=True)
Channels = Annotated[list[ChannelText], Field(max_length=20)]
LinkKindName = Literal[tuple(LinkKind.values)]  # type: ignore[valid-type]
ContentKindName = Literal[tuple(ContentKind.values)]  # type: ignore[valid-type]
SchemeName = Literal[tuple(Scheme.values)]  # type: ignore[valid-type]


class LinkIn(Strict):
    kind: LinkKindName
    object_id: Id = Field(description="The journey's, broadcast's or template's id.")


class CellIn(Strict):
    channel: ChannelText = Field(
        description="A channel (email, sms, …) or free text for an offline one; no '/'."
    )
    touchpoints: LongText = ""
    goal: LongText = ""
    expectations: LongText = ""
    barriers: LongText = ""
    solutions: LongText = ""
    links: list[LinkIn] = Field(default_factory=list, max_length=20)


class StageIn(Strict):
    id: Id | None = Field(default=None, description="Keep this stage (PATCH); none adds one.")
    name: text(min_length=1, max_length=100, strip=True)
    segment: Id | None = Field(default=None, description="Who is at this stage now.")
    cells: list[CellIn] | None = Field(
        default=None, max_length=40, description="Replace the stage's cells; null keeps them."
    )


class CjmIn(Strict):
    name: Name
    audience: text(max_length=200, strip=True) = ""
    description: LongText = ""
    channels: Channels = Field(default_factory=list, description="The board's rows, in order.")
    stages: list[StageIn] | None = Field(
        default=None,
        max_length=20,
        description="Left out: need, search, choice, purchase, use, loyalty, advocacy.",
    )


class CjmPatch(Strict):
    name: Name = None  # type: ignore[assignment]
    audience: text(max_length=200, strip=True) = None  # type: ignore[assignment]
    description: LongText = None  # type: ignore[assignment]
    channels: Channels = None  # type: ignore[assignment]
    stages: list[StageIn] = Field(  # type: ignore[assignment]
        default=None,
        max_length=20,
        description="All the stages, in order: given ids are kept, new ones added, the rest "
        "deleted.",
    )


class StrategyIn(Strict):
    name: Name
    scheme: SchemeName
    segments: list[Id] = Field(default_factory=list, max_length=50, description="Segment ids.")
    audience: LongText = Field(default="", description="To whom.")
    goal: LongText = Field(default="", description="Why.")
    timing: LongText = Field(default="", description="When.")
    tone: LongText = Field(default="", description="How: the tone of voice.")
    channels: Channels = Field(default_factory=list, description="How: the channels.")


class StrategyPatch(Strict):
    name: Name = None  # type: ignore[assignment]
    scheme: SchemeName = Field(  # type: ignore[assignment]
        default=None, description="Refused (400, `scheme`) while content is tagged with a "
        "stage the new scheme lacks."
    )  # fmt: skip
    segments: list[Id] = Field(default=None, max_length=50)  # type: ignore[assignment]
    audience: LongText = None  # type: ignore[assignment]
    goal: LongText = None  # type: ignore[assignment]
    timing: LongText = None  # type: ignore[assignment]
    tone: LongText = None  # type: ignore[assignment]
    channels: Channels = None  # type: ignore[assignment]


class ContentIn(Strict):
    stage: text(min_length=1, max_length=20) = Field(description="One of the scheme's stages.")
    kind: ContentKindName
    object_id: Id = Field(description="The template's, broadcast's or journey's id.")
    step_id: text(max_length=64, strip=True) = Field(
        default="", description="For kind journey_step: the step's id in the journey's graph."
    )


# --- Output ---------------------------------------------------------------------------------------
class LinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    object_id = serializers.IntegerField()


class CellSerializer(serializers.ModelSerializer):
    links = LinkSerializer(many=True)

    class Meta:
        model = CjmCell
        fields = ["channel", "touchpoints", "goal", "expectations", "barriers", "solutions",
                  "links"]  # fmt: skip


class StageSerializer(serializers.ModelSerializer):
    segment = serializers.IntegerField(source="segment_id", allow_null=True)
    customers = serializers.SerializerMethodField()
    conversion = serializers.SerializerMethodField()
    cells = CellSerializer(many=True)

    class Meta:
        model = CjmStage
        fields = ["id", "name", "position", "segment", "customers", "conversion", "cells"]

    def get_customers(self, stage) -> int | None:
        """Members of the stage's segment now; null without a segment."""
        return stage.segment.member_count if stage.segment_id else None

    def get_conversion(self, stage) -> float | None:
        """Share (0 to 1) of the previous stage's customers who are in this stage now; null
        when this or the previous stage has no segment, or the previous one is empty."""
        return self.context.get("conversions", {}).get(stage.pk)


class CjmSummarySerializer(serializers.ModelSerializer):
    stage_count = serializers.IntegerField()

    class Meta:
        model = CustomerJourneyMap
        fields = ["id", "name", "audience", "description", "channels", "stage_count",
                  "created_at", "updated_at"]  # fmt: skip


class CjmSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True)

    class Meta:
        model = CustomerJourneyMap
        fields = ["id", "name", "audience", "description", "channels", "stages", "created_at",
                  "updated_at"]  # fmt: skip


class ContentSerializer(serializers.ModelSerializer):
    class Meta:
        model = StrategyContent
        fields = ["id", "stage", "kind", "object_id", "step_id", "created_at"]


class SchemeStageSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class StrategySerializer(serializers.ModelSerializer):
    stages = serializers.SerializerMethodField()
    segments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    content = ContentSerializer(many=True)

    class Meta:
        model = CommunicationStrategy
        fields = ["id", "name", "scheme", "stages", "segments", "audience", "goal", "timing",
                  "tone", "channels", "content", "created_at", "updated_at"]  # fmt: skip

    def get_stages(self, strategy) -> list[dict]:
        """The scheme's stages in order, which content is tagged with."""
        return [{"key": key, "label": str(label)} for key, label in strategy.stages()]


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    content = serializers.IntegerField(help_text="Pieces of content tagged with the stage.")
    reach = serializers.IntegerField(help_text="Customers sent a message from that content.")
    engaged = serializers.IntegerField(help_text="Of them, customers who opened or clicked one.")
    converted = serializers.IntegerField(
        help_text="Customers with a completed order within conversion_days after such a message."
    )
    engagement_rate = serializers.FloatField(allow_null=True, help_text="engaged ÷ reach.")
    conversion_rate = serializers.FloatField(allow_null=True, help_text="converted ÷ reach.")


class FunnelSerializer(serializers.Serializer):
    strategy_id = serializers.IntegerField()
    conversion_days = serializers.IntegerField()
    stages = FunnelStageSerializer(many=True)
