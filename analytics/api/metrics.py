"""API v1 for customer metrics: customers, retention, cohorts, conversion, funnel and channels.

Every operation takes the same query filters (period, granularity, segment, channel, acquisition
cohort), validated with pydantic; a bad one is a 400 naming the parameter. Views call one metrics
service and serialise its plain data. Money is a decimal string; rates are percentages.
"""

import datetime as dt
from typing import Annotated, Literal

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import Field, field_validator, model_validator
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.metrics.channels import channels_funnel
from analytics.metrics.cohorts import cohort_table
from analytics.metrics.conversion import events_funnel, message_conversion
from analytics.metrics.customers import customers_metrics
from analytics.metrics.filters import GRANULARITIES, MetricFilters, buckets
from analytics.metrics.retention import retention_metrics
from api.errors import ValidationFailed
from api.schema import error_responses
from api.types import MAX_SAFE_INTEGER, text
from channels.models import MessageSource
from customers.api.schemas import ChannelName, Strict, parse
from customers.models import Segment

READ_ERRORS = (400, 401, 429)
MAX_PERIOD_DAYS = 3700  # ten years and a bit
MAX_BUCKETS = 400
MAX_RETENTION_BUCKETS = 60  # retention is one query per bucket
MAX_FUNNEL_STEPS = 8

Granularity = Literal[GRANULARITIES]  # type: ignore[valid-type]
SourceName = Literal[tuple(MessageSource.values)]  # type: ignore[valid-type]


class MetricsQuery(Strict):
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    granularity: Granularity = "month"
    segment: Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)] | None = None
    channel: ChannelName | None = None
    cohort: dt.date | None = None
    window_days: Annotated[int, Field(ge=1, le=365)] = 7
    source: SourceName | None = None
    step: list[text(min_length=1, max_length=100)] = []

    @field_validator("step")
    @classmethod
    def _steps(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_FUNNEL_STEPS:
            raise ValueError(f"at most {MAX_FUNNEL_STEPS} steps")
        return value

    @model_validator(mode="after")
    def _period(self):
        today = timezone.localdate()
        self.date_to = self.date_to or today
        self.date_from = self.date_from or self.date_to - dt.timedelta(days=29)
        return self


def _filters(request, *, max_buckets: int = MAX_BUCKETS) -> tuple[MetricFilters, MetricsQuery]:
    raw = {k: v for k, v in request.query_params.items() if k != "step"}
    if "step" in request.query_params:
        raw["step"] = request.query_params.getlist("step")
    query = parse(MetricsQuery, raw)
    if query.date_from > query.date_to:
        raise ValidationFailed([{"field": "date_to", "message": "must not be before date_from"}])
    if (query.date_to - query.date_from).days > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            [{"field": "date_from", "message": f"the period is at most {MAX_PERIOD_DAYS} days"}]
        )
    if query.segment is not None and not Segment.objects.filter(pk=query.segment).exists():
        raise ValidationFailed([{"field": "segment", "code": "not_found", "message": "no such id"}])
    filters = MetricFilters(
        date_from=query.date_from,
        date_to=query.date_to,
        granularity=query.granularity,
        segment_id=query.segment,
        channel=query.channel,
        cohort=query.cohort.replace(day=1) if query.cohort else None,
    )
    if len(buckets(filters)) > max_buckets:
        raise ValidationFailed(
            [
                {
                    "field": "granularity",
                    "message": f"at most {max_buckets} buckets: choose a coarser one",
                }
            ]
        )
    return filters, query


def _echo(filters: MetricFilters) -> dict:
    return {
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "granularity": filters.granularity,
        "segment": filters.segment_id,
        "channel": filters.channel,
        "cohort": filters.cohort,
    }


FILTER_PARAMETERS = [
    OpenApiParameter(
        "date_from", dt.date, description="first day (default: 29 days before date_to)"
    ),
    OpenApiParameter("date_to", dt.date, description="last day, inclusive (default: today)"),
    OpenApiParameter("granularity", str, enum=list(GRANULARITIES), description="default month"),
    OpenApiParameter("segment", int, description="only the segment's members"),
    OpenApiParameter(
        "channel", str, enum=["email", "sms", "whatsapp", "telegram", "viber", "push", "voice"]
    ),
    OpenApiParameter("cohort", dt.date, description="only customers acquired in this month"),
]
WINDOW_PARAMETER = OpenApiParameter(
    "window_days", int, description="conversion window after a message or step, 1–365 (default 7)"
)


# Responses ------------------------------------------------------------------------------------


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def rate() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True)


class MetricsFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    granularity = serializers.CharField()
    segment = serializers.IntegerField(allow_null=True)
    channel = serializers.CharField(allow_null=True)
    cohort = serializers.DateField(allow_null=True)


class MetricsFiguresSerializer(serializers.Serializer):
    orders = serializers.IntegerField()
    revenue = money()
    active_customers = serializers.IntegerField()
    aov = money(allow_null=True)
    purchase_frequency = serializers.FloatField(allow_null=True)


class CustomersTotalsSerializer(MetricsFiguresSerializer):
    customers = serializers.IntegerField(help_text="ordered within the churn window before the end")
    new_customers = serializers.IntegerField(help_text="first order ever in the period")
    new_profiles = serializers.IntegerField(help_text="profiles created in the period")
    repeat_customers = serializers.IntegerField()
    repeat_purchase_rate = rate()


class CustomersBucketSerializer(MetricsFiguresSerializer):
    bucket = serializers.DateField()
    new_customers = serializers.IntegerField()


class CustomersMetricsSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    churn_window_days = serializers.IntegerField()
    totals = CustomersTotalsSerializer()
    series = CustomersBucketSerializer(many=True)


class RetentionCountsSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="S: customers at the start")
    end = serializers.IntegerField(help_text="E: customers at the end")
    new = serializers.IntegerField(help_text="N: first order ever in the period")
    retained = serializers.IntegerField()
    lost = serializers.IntegerField()
    crr = rate()
    retention_rate = rate()
    churn_rate = rate()


class RetentionBucketSerializer(RetentionCountsSerializer):
    bucket = serializers.DateField()


class MetricsRetentionSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    churn_window_days = serializers.IntegerField()
    totals = RetentionCountsSerializer()
    series = RetentionBucketSerializer(many=True)


class MetricsCohortMonthSerializer(serializers.Serializer):
    offset = serializers.IntegerField()
    month = serializers.DateField()
    customers = serializers.IntegerField()
    retention = rate()
    orders = serializers.IntegerField()
    revenue = money()


class MetricsCohortSerializer(serializers.Serializer):
    cohort = serializers.DateField()
    size = serializers.IntegerField()
    months = MetricsCohortMonthSerializer(many=True)


class MetricsCohortsSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    cohorts = MetricsCohortSerializer(many=True)


class MetricsConversionRowSerializer(serializers.Serializer):
    channel = serializers.CharField()
    messages = serializers.IntegerField()
    recipients = serializers.IntegerField()
    converted = serializers.IntegerField()
    conversion_rate = rate()


class MetricsConversionSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    window_days = serializers.IntegerField()
    source = serializers.CharField(allow_null=True)
    channels = MetricsConversionRowSerializer(many=True)


class MetricsFunnelStepSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    name = serializers.CharField()
    customers = serializers.IntegerField()
    of_first = rate()
    of_previous = rate()


class MetricsFunnelSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    window_days = serializers.IntegerField()
    steps = MetricsFunnelStepSerializer(many=True)


class MetricsChannelRowSerializer(serializers.Serializer):
    channel = serializers.CharField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    failed = serializers.IntegerField()
    recipients = serializers.IntegerField()
    converted = serializers.IntegerField()
    delivery_rate = rate()
    open_rate = rate()
    click_rate = rate()
    conversion_rate = rate()
    sms_parts = serializers.IntegerField()
    cost = money(allow_null=True)
    cost_currency = serializers.CharField(allow_null=True)
    cost_per_part = serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True)


class MetricsChannelsSerializer(serializers.Serializer):
    filters = MetricsFiltersSerializer()
    window_days = serializers.IntegerField()
    channels = MetricsChannelRowSerializer(many=True)


# Views ----------------------------------------------------------------------------------------


class CustomersMetricsView(APIView):
    @extend_schema(
        summary="Customers, active and new customers, orders, revenue, AOV, frequency, repeat rate",
        description="Totals for the period and one row per bucket. A customer is someone who "
        "ordered within the churn window (a setting, default 180 days) before the period's end.",
        parameters=FILTER_PARAMETERS,
        responses={200: CustomersMetricsSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, _ = _filters(request)
        data = customers_metrics(filters) | {"filters": _echo(filters)}
        return Response(CustomersMetricsSerializer(data).data)


class RetentionMetricsView(APIView):
    @extend_schema(
        summary="Retention, CRR = (E − N) / S × 100, and churn, for the period and per bucket",
        parameters=FILTER_PARAMETERS,
        responses={200: MetricsRetentionSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, _ = _filters(request, max_buckets=MAX_RETENTION_BUCKETS)
        data = retention_metrics(filters) | {"filters": _echo(filters)}
        return Response(MetricsRetentionSerializer(data).data)


class CohortsMetricsView(APIView):
    @extend_schema(
        summary="Monthly cohort retention: customers acquired per month and their later months",
        parameters=FILTER_PARAMETERS,
        responses={200: MetricsCohortsSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, _ = _filters(request)
        data = cohort_table(filters) | {"filters": _echo(filters)}
        return Response(MetricsCohortsSerializer(data).data)


class ConversionMetricsView(APIView):
    @extend_schema(
        summary="Message → order conversion by channel",
        description="Of the customers sent a message in the period (of the channel and source "
        "given), those who placed an order within window_days after it.",
        parameters=[
            *FILTER_PARAMETERS,
            WINDOW_PARAMETER,
            OpenApiParameter("source", str, enum=MessageSource.values),
        ],
        responses={200: MetricsConversionSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, query = _filters(request)
        rows = message_conversion(filters, window_days=query.window_days, source=query.source)
        data = {
            "filters": _echo(filters),
            "window_days": query.window_days,
            "source": query.source,
            "channels": rows,
        }
        return Response(MetricsConversionSerializer(data).data)


class FunnelMetricsView(APIView):
    @extend_schema(
        summary="A funnel of named events, in order, to an order",
        description="Repeat `step` for each event name (1–8). A customer counts at a step if it "
        "happened after their previous step and within window_days of it; step 1 is in the "
        "period. The last step is always an order.",
        parameters=[
            *FILTER_PARAMETERS,
            WINDOW_PARAMETER,
            OpenApiParameter("step", str, many=True, description="an event name, in order"),
        ],
        responses={200: MetricsFunnelSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, query = _filters(request)
        if not query.step:
            raise ValidationFailed([{"field": "step", "message": "give at least one event name"}])
        steps = events_funnel(filters, steps=query.step, window_days=query.window_days)
        data = {"filters": _echo(filters), "window_days": query.window_days, "steps": steps}
        return Response(MetricsFunnelSerializer(data).data)


class ChannelsMetricsView(APIView):
    @extend_schema(
        summary="Channel performance: sent → delivered → opened → clicked → converted",
        description="Messages queued in the period by how far they got, customers converted "
        "within window_days, and SMS parts with their cost where a part price is set.",
        parameters=[*FILTER_PARAMETERS, WINDOW_PARAMETER],
        responses={200: MetricsChannelsSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        filters, query = _filters(request)
        rows = channels_funnel(filters, window_days=query.window_days)
        data = {"filters": _echo(filters), "window_days": query.window_days, "channels": rows}
        return Response(MetricsChannelsSerializer(data).data)
