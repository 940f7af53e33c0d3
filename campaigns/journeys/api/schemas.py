"""API v1 request and response shapes for journeys.

Requests are pydantic models (validated at the edge). The definition is checked against
`campaigns.journeys.definition.Definition` by the view, so that each error names its field inside
it (`definition.steps[0].template_id`); what only the whole graph shows (an unreachable step, a
missing template variant) is a problem listed by `checks` and refused by `publish`. Responses are
DRF serializers, for the OpenAPI schema.
"""

from typing import Annotated, Any

from drf_spectacular.utils import extend_schema_field
from pydantic import Field
from rest_framework import serializers

from api.types import CHECK_JSON, DocumentedAs, JsonObject, text
from campaigns.journeys.definition import Definition, StepId
from campaigns.journeys.models import EnrollmentState, JourneyStatus
from customers.api.schemas import ExternalId, Strict

JourneyName = text(min_length=1, max_length=150, strip=True)
Description = text(max_length=5000)
# Validated by the view against Definition (errors named inside it); documented as Definition.
DefinitionJson = Annotated[dict[str, Any], CHECK_JSON, DocumentedAs(Definition)]
# What a dry run assumes for a wait: an outcome's name or "timeout"; for a cascade "outcome"/"next".
AssumedWay = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]


class JourneyIn(Strict):
    name: JourneyName
    description: Description = ""
    definition: DefinitionJson = Field(
        description="Trigger, entry policy, goal, exits, limits, `start` and `steps` (see the "
        "Definition schema). Saved as the draft; nothing runs until `publish`."
    )


class JourneyPatch(Strict):
    # Fields left out are not changed; `definition` replaces the whole draft.
    name: JourneyName = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    definition: DefinitionJson = None  # type: ignore[assignment]


class JourneyPublishIn(Strict):
    # Any text: a key that is no step of the live version is refused naming `mapping.<key>`.
    mapping: dict[text(max_length=100), text(max_length=100)] = Field(
        default_factory=dict,
        max_length=500,
        description="Runs open on the live version at step `old` move to step `new` of the new "
        "version: {old: new}. Unmapped runs finish on the version they are on.",
    )
    note: text(max_length=300, strip=True) = ""


class JourneyEnrolIn(Strict):
    customer: ExternalId = Field(description="The customer's CRM id (`external_id`).")
    properties: JsonObject = Field(
        default_factory=dict,
        description="The entry's properties: the entry key, conditions on `entry` and Liquid's "
        "`journey.entry` read them.",
    )


class JourneyDryRunIn(Strict):
    customer: ExternalId
    assume: dict[StepId, AssumedWay] = Field(
        default_factory=dict,
        max_length=500,
        description="{wait step: outcome name or `timeout`; cascade step: `outcome` or `next`}; "
        "a wait not named times out.",
    )
    properties: JsonObject = Field(default_factory=dict)


# --- Output -------------------------------------------------------------------------------------
def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class JourneyTotalsSerializer(serializers.Serializer):
    entered = serializers.IntegerField(help_text="Runs started, every version.")
    open = serializers.IntegerField(help_text="Runs active or waiting now.")
    converted = serializers.IntegerField(help_text="Runs that reached the goal.")
    revenue = money(help_text="Of the converting orders.")


class JourneySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=JourneyStatus.choices)
    draft = serializers.JSONField(help_text="The definition being edited (a Definition).")
    draft_changed = serializers.BooleanField(
        help_text="The draft differs from the live version (always true before publishing)."
    )
    live_version = serializers.IntegerField(
        source="live_version.number", allow_null=True, default=None, help_text="Its number."
    )
    trigger = serializers.CharField(
        source="draft.trigger.kind", default="", help_text="The draft's trigger kind."
    )
    segment = serializers.IntegerField(source="segment_id", allow_null=True)
    totals = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(JourneyTotalsSerializer)
    def get_totals(self, journey) -> dict:
        """The view passes the totals of the journeys it serialises (`journey_totals`)."""
        empty = {"entered": 0, "open": 0, "converted": 0, "revenue": 0}
        return JourneyTotalsSerializer(self.context.get("totals", {}).get(journey.pk, empty)).data


class JourneyVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    definition = serializers.JSONField(
        help_text="As published, each template pinned to its version then (`template_version_id`)."
    )
    published_at = serializers.DateTimeField()
    published_by = serializers.CharField(
        source="published_by.username", allow_null=True, default=None
    )
    note = serializers.CharField(allow_blank=True)
    mapping = serializers.SerializerMethodField()

    def get_mapping(self, version) -> dict[str, str]:
        """{old step: new step}: the runs moved here from the version live before."""
        return next(iter((version.mapping or {}).values()), {})


class JourneyProblemSerializer(serializers.Serializer):
    step = serializers.CharField(allow_blank=True, help_text="The step's id; \"\" the journey's.")
    field = serializers.CharField(allow_blank=True)
    code = serializers.CharField(
        help_text="no_steps, no_start, unknown_step, unreachable, no_timeout, unbounded_loop, "
        "unknown_template, archived_template, missing_variant, unknown_channel, "
        "no_consent_handling, unknown_segment, static_segment_needed, unknown_pool, "
        "unknown_attribute, bad_message_step"
    )
    message = serializers.CharField()


class JourneyChecksSerializer(serializers.Serializer):
    publishable = serializers.BooleanField(help_text="No problems: `publish` would take it.")
    problems = JourneyProblemSerializer(many=True)


class JourneyLogSerializer(serializers.Serializer):
    step = serializers.CharField(allow_blank=True)
    outcome = serializers.CharField(
        help_text="entered, sent, unreachable, waiting, outcome:<name>, timeout, "
        "branch:<case>, arm:<arm>, action, converted, exited:<reason>, completed, migrated"
    )
    detail = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()


class JourneyEnrollmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    journey = serializers.IntegerField(source="journey_id")
    journey_name = serializers.CharField(source="journey.name")
    version = serializers.IntegerField(source="version.number")
    customer = serializers.CharField(
        source="customer.external_id", help_text="The customer's CRM id."
    )
    run = serializers.IntegerField(help_text="The customer's nth run of this journey.")
    state = serializers.ChoiceField(choices=EnrollmentState.choices)
    step = serializers.CharField(allow_blank=True, help_text="Where the run is (or ended).")
    wake_at = serializers.DateTimeField(
        allow_null=True, help_text="When it acts next: now, or its wait's timeout."
    )
    entered_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    exit_reason = serializers.CharField(allow_blank=True)
    converted_at = serializers.DateTimeField(allow_null=True)
    revenue = money(allow_null=True)


class CustomerJourneyRunSerializer(JourneyEnrollmentSerializer):
    history = JourneyLogSerializer(
        many=True, source="history_rows", required=False, help_text="With ?history=1: the log."
    )


class JourneyStepCountsSerializer(serializers.Serializer):
    step = serializers.CharField(allow_blank=True, help_text='"": the journey as a whole.')
    type = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    entered = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="Open runs at the step now.")
    converted = serializers.IntegerField()
    revenue = money()
    passed = serializers.DictField(
        child=serializers.IntegerField(), help_text="{way out: runs that took it}"
    )
    exited = serializers.DictField(child=serializers.IntegerField(), help_text="{reason: runs}")


class JourneyStatsSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text="null before publishing.")
    journey = JourneyStepCountsSerializer(help_text="Entries and conversions of the whole version.")
    steps = JourneyStepCountsSerializer(many=True, help_text="In the definition's order.")


class JourneyDryRunMessageSerializer(serializers.Serializer):
    channel = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    refusal = serializers.CharField(allow_blank=True, help_text="Why it would not be sent.")


class JourneyDryRunStepSerializer(serializers.Serializer):
    step = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    what = serializers.CharField(help_text="What the step would do, in words.")
    way = serializers.CharField(allow_blank=True, help_text="The way out it would take.")
    messages = JourneyDryRunMessageSerializer(many=True)


class JourneyDryRunSerializer(serializers.Serializer):
    customer = serializers.CharField()
    path = JourneyDryRunStepSerializer(many=True)
