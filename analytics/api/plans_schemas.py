"""API v1 shapes for forecasts and goals: pydantic bodies in, DRF serializers out (the schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field
from rest_framework import serializers

from analytics.forecast.service import DEFAULT_ACTIVITY_DAYS, MAX_HORIZON_DAYS, METRICS
from analytics.goals.service import MAX_WINDOW_DAYS
from analytics.goals.values import GOAL_METRICS
from analytics.models import Forecast, Goal
from api.types import MAX_SAFE_INTEGER, text
from customers.api.schemas import Strict
from customers.models import Channel

Id = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
ForecastMetric = Literal[METRICS]  # type: ignore[valid-type]
GoalMetric = Literal[tuple(GOAL_METRICS)]  # type: ignore[valid-type]
ChannelName = Literal[("", *Channel.values)]  # type: ignore[valid-type]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]


class ForecastIn(Strict):
    metric: ForecastMetric
    launch: dt.date
    horizon_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)]
    channel: ChannelName = ""
    segment: Id | None = None
    activity_days: Annotated[int, Field(ge=1, le=3660)] = DEFAULT_ACTIVITY_DAYS
    name: text(max_length=200, strip=True) = ""


class GoalIn(Strict):
    name: text(min_length=1, max_length=200, strip=True)
    metric: GoalMetric
    target: Finite
    deadline: dt.date
    segment: Id | None = None
    channel: ChannelName = ""
    window_days: Annotated[int, Field(ge=7, le=MAX_WINDOW_DAYS)] = 90
    strategies: list[Id] = Field(default_factory=list, max_length=50)
    journeys: list[Id] = Field(default_factory=list, max_length=50)


class GoalPatch(Strict):
    name: text(min_length=1, max_length=200, strip=True) = None  # type: ignore[assignment]
    target: Finite = None  # type: ignore[assignment]
    deadline: dt.date = None  # type: ignore[assignment]
    strategies: list[Id] = Field(default=None, max_length=50)  # type: ignore[assignment]
    journeys: list[Id] = Field(default=None, max_length=50)  # type: ignore[assignment]
    archived: bool = None  # type: ignore[assignment]


class ForecastPeriodSerializer(serializers.Serializer):
    years_back = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    base = serializers.IntegerField()
    converted = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    rate = serializers.FloatField(help_text="A share (0–1), or revenue per base customer.")


class ForecastOutcomeSerializer(serializers.Serializer):
    rate = serializers.FloatField()
    expected = serializers.FloatField()


class ForecastResultSerializer(serializers.Serializer):
    metric = serializers.CharField()
    launch = serializers.DateField()
    horizon_days = serializers.IntegerField()
    channel = serializers.CharField()
    segment_id = serializers.IntegerField(allow_null=True)
    activity_days = serializers.IntegerField()
    base_on = serializers.DateField()
    current_base = serializers.IntegerField()
    periods = ForecastPeriodSerializer(many=True)
    pessimistic = ForecastOutcomeSerializer()
    neutral = ForecastOutcomeSerializer()
    optimistic = ForecastOutcomeSerializer()


class ForecastSerializer(serializers.ModelSerializer):
    segment = serializers.IntegerField(source="segment_id", allow_null=True)
    result = ForecastResultSerializer()

    class Meta:
        model = Forecast
        fields = ["id", "name", "metric", "launch", "horizon_days", "channel", "segment",
                  "activity_days", "result", "created_at"]  # fmt: skip


class SmartGoalSerializer(serializers.ModelSerializer):
    segment = serializers.IntegerField(source="segment_id", allow_null=True)
    strategies = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    journeys = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Goal
        fields = ["id", "name", "metric", "segment", "channel", "window_days", "baseline",
                  "target", "starts_on", "deadline", "value", "projected", "status",
                  "checked_at", "off_track_since", "strategies", "journeys", "created_at",
                  "archived_at"]  # fmt: skip
