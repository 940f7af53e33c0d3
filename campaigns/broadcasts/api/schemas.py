"""API v1 request and response shapes for broadcasts.

Requests are pydantic models (validated at the edge); the engine's own rules (a template with a
variant for the channel, two variants for a test, …) are checked by the services and come back
as a 400 naming the same field. Responses are DRF serializers, for the OpenAPI schema.
"""

from datetime import time
from typing import Annotated, Literal

from drf_spectacular.utils import extend_schema_field
from pydantic import AfterValidator, Field, StringConstraints
from rest_framework import serializers

from api.types import MAX_SAFE_INTEGER, UtcDatetime, text
from campaigns.broadcasts.models import (
    AbMetric,
    Broadcast,
    BroadcastStatus,
    BroadcastVariant,
    RecipientGroup,
    RecipientState,
    Timing,
)
from campaigns.broadcasts.services.launch import broadcast_progress
from campaigns.broadcasts.services.setup import MAX_VARIANTS
from campaigns.message_templates.api.schemas import ChannelName
from customers.api.schemas import Strict

BroadcastName = text(min_length=1, max_length=200, strip=True)
Id = Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
Percent50 = Annotated[int, Field(ge=0, le=50)]
Percent = Annotated[int, Field(ge=0, le=100)]
TestHours = Annotated[int, Field(ge=1, le=168)]
ConversionDays = Annotated[int, Field(ge=1, le=90)]
TimingName = Literal[tuple(Timing.values)]  # type: ignore[valid-type]
MetricName = Literal[tuple(AbMetric.values)]  # type: ignore[valid-type]
# A wall-clock time in each customer's own zone, so no offset: "10:00", as it is given back.
LocalTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    AfterValidator(time.fromisoformat),
]


class BroadcastVariantIn(Strict):
    template: Id | None = Field(
        default=None, description="Another template's id; the broadcast's own when left out."
    )
    subject: text(max_length=998, strip=True) = Field(
        default="", description="Overrides the email subject (email only)."
    )
    channel: ChannelName | None = Field(
        default=None, description="Another channel for this variant; the broadcast's if left out."
    )


class BroadcastIn(Strict):
    name: BroadcastName
    template: Id | None = Field(
        default=None, description="A marketing template's id; or give `survey` instead."
    )
    survey: Id | None = Field(
        default=None,
        description="A survey's id (NPS, CSAT or CES) to send instead of a template: one "
        "channel or each customer's best one; no A/B test, promo pool or local time.",
    )
    segment: Id = Field(description="The segment whose members, at launch, are the audience.")
    channel: ChannelName | None = Field(
        default=None,
        description="One channel; leave out to send on each customer's preferred channel, "
        "trying `channel_order`.",
    )
    channel_order: list[ChannelName] = Field(default_factory=list, max_length=6)
    promo_pool: Id | None = Field(default=None, description="Gives each recipient a code.")
    holdout_percent: Percent50 = Field(default=0, description="Kept out, to measure the uplift.")
    timing: TimingName = "now"
    send_at: UtcDatetime | None = Field(default=None, description="For timing `at`.")
    local_time: LocalTime | None = Field(
        default=None, description="For timing `local`: HH:MM in each customer's time zone."
    )
    test_percent: Percent = Field(
        default=0, description="The A/B test's share of the audience; 0 is no test."
    )
    ab_metric: MetricName = "clicked"
    test_hours: TestHours = 4
    conversion_days: ConversionDays = 7
    variants: list[BroadcastVariantIn] = Field(
        default_factory=list,
        max_length=MAX_VARIANTS,
        description="A/B variants A, B, … in order; none is one variant, the template as it is.",
    )


class BroadcastPatch(Strict):
    # Fields left out are not changed; `variants` replaces them all.
    name: BroadcastName = None  # type: ignore[assignment]
    template: Id | None = Field(default=None, description="null with `survey` to send a survey.")
    survey: Id | None = Field(default=None, description="null with `template` to send a template.")
    segment: Id = None  # type: ignore[assignment]
    channel: ChannelName | None = Field(
        default=None, description="null: each customer's preferred channel, in `channel_order`."
    )
    channel_order: list[ChannelName] = Field(default=None, max_length=6)  # type: ignore[assignment]
    promo_pool: Id | None = None
    holdout_percent: Percent50 = None  # type: ignore[assignment]
    timing: TimingName = None  # type: ignore[assignment]
    send_at: UtcDatetime | None = None
    local_time: LocalTime | None = None
    test_percent: Percent = None  # type: ignore[assignment]
    ab_metric: MetricName = None  # type: ignore[assignment]
    test_hours: TestHours = None  # type: ignore[assignment]
    conversion_days: ConversionDays = None  # type: ignore[assignment]
    variants: list[BroadcastVariantIn] = Field(default=None, max_length=MAX_VARIANTS)  # type: ignore[assignment]


# --- Output -------------------------------------------------------------------------------------
# Money is a decimal string, as order totals are.
def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class BroadcastProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BroadcastStatus.choices)
    audience = serializers.IntegerField(help_text="Recipients in the snapshot, holdout included.")
    held = serializers.IntegerField(help_text="Of them, held out (never sent to).")
    test = serializers.IntegerField(help_text="Of them, in the A/B test group.")
    target = serializers.IntegerField(
        help_text="What can be sent now: the audience less the holdout, or the test group "
        "while the A/B test runs."
    )
    processed = serializers.IntegerField()
    queued = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    percent = serializers.FloatField(help_text="processed ÷ target × 100, at most 100.")


class BroadcastVariantSerializer(serializers.ModelSerializer):
    template = serializers.IntegerField(
        source="template_id", allow_null=True, help_text="null: the broadcast's template."
    )
    version = serializers.IntegerField(
        source="version.number", allow_null=True, default=None, help_text="Fixed at launch."
    )

    class Meta:
        model = BroadcastVariant
        fields = ["key", "template", "version", "subject", "channel"]


class BroadcastSerializer(serializers.ModelSerializer):
    template = serializers.IntegerField(source="template_id", allow_null=True)
    survey = serializers.IntegerField(
        source="survey_id", allow_null=True, help_text="The survey sent instead of a template."
    )
    segment = serializers.IntegerField(source="segment_id")
    promo_pool = serializers.IntegerField(source="promo_pool_id", allow_null=True)
    channel_order = serializers.ListField(child=serializers.CharField())
    local_time = serializers.TimeField(allow_null=True, format="%H:%M")
    variants = BroadcastVariantSerializer(many=True)
    winner = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = ["id", "name", "status", "template", "survey", "segment", "channel", "channel_order",
                  "promo_pool", "holdout_percent", "timing", "send_at", "local_time",
                  "test_percent", "ab_metric", "test_hours", "conversion_days", "variants",
                  "winner", "progress", "created_at", "updated_at", "launched_at", "winner_at",
                  "finished_at"]  # fmt: skip

    def get_winner(self, broadcast) -> str | None:
        """The winning variant's key, once the A/B test has ended."""
        return next((v.key for v in broadcast.variants.all() if v.pk == broadcast.winner_id), None)

    @extend_schema_field(BroadcastProgressSerializer)
    def get_progress(self, broadcast) -> dict:
        return broadcast_progress(broadcast)


class BroadcastRecipientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer_external_id = serializers.CharField(allow_null=True, help_text="null once erased.")
    group = serializers.ChoiceField(choices=RecipientGroup.choices)
    variant = serializers.CharField(
        allow_null=True, help_text="The variant's key; null for the holdout and, during an A/B "
        "test, for the rest until the winner is known."
    )  # fmt: skip
    state = serializers.ChoiceField(choices=RecipientState.choices)
    channel = serializers.CharField(allow_blank=True)
    message_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True, help_text="Why it was suppressed.")
    send_after = serializers.DateTimeField(allow_null=True, help_text="Local-time broadcasts.")
    processed_at = serializers.DateTimeField(allow_null=True)


class BroadcastRatesSerializer(serializers.Serializer):
    delivery_rate = serializers.FloatField(allow_null=True, help_text="delivered ÷ sent; 0 to 1.")
    open_rate = serializers.FloatField(allow_null=True, help_text="opened ÷ sent.")
    click_rate = serializers.FloatField(allow_null=True, help_text="clicked ÷ sent.")
    unsubscribe_rate = serializers.FloatField(allow_null=True, help_text="unsubscribed ÷ sent.")
    conversion_rate = serializers.FloatField(
        allow_null=True, help_text="converted ÷ recipients processed (sent to or not)."
    )
    revenue_per_recipient = money(allow_null=True)


class BroadcastHourSerializer(serializers.Serializer):
    hour = serializers.CharField(help_text="The hour, UTC: 2026-12-03T10:00.")
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()


class BroadcastCountsSerializer(serializers.Serializer):
    audience = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not processed yet.")
    queued = serializers.IntegerField(help_text="A message was stored for them.")
    suppressed = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    failed = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    complaints = serializers.IntegerField()
    converted = serializers.IntegerField(
        help_text="Recipients with a completed order within conversion_days."
    )
    revenue = money(help_text="Of those orders.")
    suppressed_by_reason = serializers.DictField(child=serializers.IntegerField())
    rates = BroadcastRatesSerializer()


class BroadcastHourlyCountsSerializer(BroadcastCountsSerializer):
    hourly = serializers.SerializerMethodField()

    @extend_schema_field(BroadcastHourSerializer(many=True))
    def get_hourly(self, row) -> list[dict]:
        return [
            {"hour": hour, "opened": opened, "clicked": clicked}
            for hour, opened, clicked in row["hourly"]
        ]


class BroadcastVariantResultSerializer(BroadcastHourlyCountsSerializer):
    key = serializers.CharField()
    variant_id = serializers.IntegerField()
    template = serializers.CharField(help_text="The template's name.")
    version = serializers.IntegerField(allow_null=True)
    subject = serializers.CharField(allow_blank=True)
    channel = serializers.CharField(allow_blank=True)
    winner = serializers.BooleanField()


class BroadcastUpliftSerializer(serializers.Serializer):
    conversion_rate = serializers.FloatField(help_text="Of everyone sent to, all variants.")
    holdout_conversion_rate = serializers.FloatField()
    uplift_points = serializers.FloatField(help_text="The difference of the two rates.")
    uplift_relative = serializers.FloatField(allow_null=True)
    revenue_per_recipient = money()
    holdout_revenue_per_recipient = money()
    incremental_revenue = money()
    z = serializers.FloatField()
    p_value = serializers.FloatField(help_text="Two-proportion z-test, two-sided.")
    significant = serializers.BooleanField(help_text="p_value < 0.05")


class BroadcastAbSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=AbMetric.choices)
    test_percent = serializers.IntegerField()
    test_hours = serializers.IntegerField()
    winner = serializers.CharField(allow_null=True, help_text="null while the test runs.")
    decided_at = serializers.DateTimeField(allow_null=True)
    stats = serializers.DictField(
        help_text="method, z, p_value, probability_to_beat, lift, significant, and each "
        "variant's metric value and trials."
    )


class BroadcastResultsSerializer(serializers.Serializer):
    broadcast_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=BroadcastStatus.choices)
    progress = BroadcastProgressSerializer()
    refreshed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the counts below were computed."
    )
    conversion_days = serializers.IntegerField()
    total = BroadcastCountsSerializer(help_text="Every variant together; the holdout apart.")
    variants = BroadcastVariantResultSerializer(many=True)
    holdout = BroadcastHourlyCountsSerializer(allow_null=True)
    uplift = BroadcastUpliftSerializer(
        allow_null=True, help_text="Against the holdout, when there is one."
    )
    ab = BroadcastAbSerializer(allow_null=True, help_text="null without an A/B test.")
