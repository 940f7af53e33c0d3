"""API v1 for attribution: the report by group, one order's touches, and the holdout uplift.

Read-only. The report's query parameters are checked by the same form as the page; a bad one is a
400 naming it. Money is a decimal string; conversions are sums of weights (fractions under the
linear model)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.attribution.forms import GROUP_CHOICES, AttributionFilterForm
from analytics.attribution.reports import (
    attribution_report,
    attribution_totals,
    broadcast_uplift,
    journey_uplift,
)
from analytics.models.attribution import AttributionModel, OrderAttribution
from api.errors import ValidationFailed
from api.schema import error_responses
from campaigns.broadcasts.models import Broadcast
from campaigns.journeys.models import Journey
from customers.models import Channel, Order

GROUPS = [key for key, _ in GROUP_CHOICES]


class AttributionRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group: an id, `journey:step`, or a channel.")
    label = serializers.CharField(help_text="Its name.")
    broadcast_id = serializers.IntegerField(required=False)
    journey_id = serializers.IntegerField(required=False)
    step = serializers.CharField(required=False)
    channel = serializers.CharField(required=False)
    template_id = serializers.IntegerField(required=False)
    conversions = serializers.FloatField(help_text="Σ weights: orders, or shares of orders.")
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField(help_text="Orders with at least one touch in the group.")


class AttributionTotalsSerializer(serializers.Serializer):
    conversions = serializers.FloatField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField()


class AttributionReportSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=AttributionModel.values)
    group_by = serializers.ChoiceField(choices=GROUPS)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    totals = AttributionTotalsSerializer(help_text="Everything attributed under the filters.")
    rows = AttributionRowSerializer(many=True)


class OrderTouchSerializer(serializers.Serializer):
    model = serializers.ChoiceField(choices=AttributionModel.values)
    message_id = serializers.IntegerField()
    touched_at = serializers.DateTimeField()
    weight = serializers.FloatField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    channel = serializers.CharField()
    source = serializers.CharField()
    broadcast_id = serializers.IntegerField(allow_null=True)
    journey_id = serializers.IntegerField(allow_null=True)
    step = serializers.CharField()
    template_id = serializers.IntegerField(allow_null=True)


class OrderAttributionSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    customer_external_id = serializers.CharField(allow_null=True)
    placed_at = serializers.DateTimeField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    touches = OrderTouchSerializer(many=True)


class UpliftSerializer(serializers.Serializer):
    step = serializers.CharField(required=False, help_text="Journeys: the split step.")
    treated = serializers.IntegerField(help_text="Customers (runs) sent to.")
    treated_converted = serializers.IntegerField()
    treated_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    holdout = serializers.IntegerField(help_text="Customers (runs) held out.")
    holdout_converted = serializers.IntegerField()
    holdout_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    conversion_rate = serializers.FloatField()
    holdout_conversion_rate = serializers.FloatField()
    uplift_points = serializers.FloatField(help_text="Treated rate − holdout rate.")
    uplift_relative = serializers.FloatField(allow_null=True, help_text="Treated / holdout − 1.")
    incremental_conversions = serializers.FloatField()
    incremental_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    z = serializers.FloatField()
    p_value = serializers.FloatField(help_text="Two-proportion z-test, two-sided.")
    significant = serializers.BooleanField(help_text="p < 0.05")


class UpliftResponseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["broadcast", "journey"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    uplift = UpliftSerializer(many=True, help_text="Empty when there is no holdout (yet).")


def _form_errors(form) -> ValidationFailed:
    return ValidationFailed(
        [
            {"field": field, "message": str(message)}
            for field, messages in form.errors.items()
            for message in messages
        ]
    )


class AttributionReportView(APIView):
    @extend_schema(
        summary="Attributed revenue and conversions by broadcast, journey, step, channel or "
        "template",
        description="Orders placed in the period (whole days, both ends included; the last 30 "
        "days by default), attributed under the model to the messages that touched them. Groups "
        "without a source of that kind (e.g. messages not from a broadcast) are left out of the "
        "rows but counted in `totals`. At most 500 rows, most revenue first.",
        parameters=[
            OpenApiParameter("model", str, enum=AttributionModel.values, required=False),
            OpenApiParameter("group_by", str, enum=GROUPS, required=False),
            OpenApiParameter("from", str, required=False, description="YYYY-MM-DD"),
            OpenApiParameter("to", str, required=False, description="YYYY-MM-DD"),
            OpenApiParameter("channel", str, enum=list(Channel.values), required=False),
            OpenApiParameter("segment", int, required=False, description="A segment's id."),
        ],
        responses={200: AttributionReportSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request):
        _no_empty(request, ("model", "group_by", "channel", "segment"))
        form = AttributionFilterForm(request.query_params)
        if not form.is_valid():
            raise _form_errors(form)
        f = form.report_filter()
        group_by = form.cleaned_data["group_by"]
        data = {
            "model": f.model,
            "group_by": group_by,
            "date_from": form.cleaned_data["from"],
            "date_to": form.cleaned_data["to"],
            "totals": attribution_totals(f),
            "rows": attribution_report(f, group_by),
        }
        return Response(AttributionReportSerializer(data).data)


class OrderAttributionView(APIView):
    @extend_schema(
        summary="One order's touches under each model",
        description="No touches: the order is not completed, none of the customer's messages "
        "was engaged with inside its channel's window, or it is still queued to be attributed "
        "(within a minute).",
        responses={200: OrderAttributionSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, external_id: str):
        order = get_object_or_404(Order.objects.select_related("customer"), external_id=external_id)
        touches = OrderAttribution.objects.filter(order=order).order_by("model", "touched_at", "id")
        customer = order.customer
        data = {
            "external_id": order.external_id,
            "customer_external_id": None if customer.erased_at else customer.external_id,
            "placed_at": order.placed_at,
            "status": order.status,
            "total": order.total,
            "currency": order.currency,
            "touches": touches,
        }
        return Response(OrderAttributionSerializer(data).data)


def _no_empty(request, names: tuple[str, ...]) -> None:
    """A parameter given empty is a 400 (the page's form reads empty as "the default"; an API
    client that sends `group_by=` has made a mistake worth hearing about)."""
    for name in names:
        if name in request.query_params and request.query_params[name] == "":
            raise ValidationFailed([{"field": name, "message": "must not be empty"}])


def _id(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise ValidationFailed([{"field": name, "message": "must be a positive integer id"}])
    return int(value)


class UpliftView(APIView):
    @extend_schema(
        summary="Measured uplift of a broadcast or a journey against its holdout",
        description="Give exactly one of `broadcast` and `journey`. A broadcast compares everyone "
        "it processed with its holdout over its conversion window (its results' counts); a "
        "journey gives one entry per split step that held runs out, comparing the runs held out "
        "with those sent down an arm on reaching the journey's goal.",
        parameters=[
            OpenApiParameter("broadcast", int, required=False),
            OpenApiParameter("journey", int, required=False),
        ],
        responses={200: UpliftResponseSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request):
        broadcast_id, journey_id = _id(request, "broadcast"), _id(request, "journey")
        if (broadcast_id is None) == (journey_id is None):
            raise ValidationFailed(
                [{"field": "broadcast", "message": "give exactly one of broadcast and journey"}]
            )
        if broadcast_id is not None:
            broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
            if broadcast is None:
                raise ValidationFailed(
                    [{"field": "broadcast", "code": "not_found", "message": "no such id"}]
                )
            uplift = broadcast_uplift(broadcast)
            data = {
                "kind": "broadcast",
                "id": broadcast.pk,
                "name": broadcast.name,
                "uplift": [uplift] if uplift else [],
            }
        else:
            journey = Journey.objects.filter(pk=journey_id).first()
            if journey is None:
                raise ValidationFailed(
                    [{"field": "journey", "code": "not_found", "message": "no such id"}]
                )
            data = {
                "kind": "journey",
                "id": journey.pk,
                "name": journey.name,
                "uplift": journey_uplift(journey),
            }
        return Response(UpliftResponseSerializer(data).data)
