"""API v1: the caller's card for an incoming call, and (from push.py) push subscriptions."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from channels.api import push
from channels.models import Conversation
from channels.services.calls import caller_card
from customers.api.schemas import PHONE_PATTERN
from customers.api.views import READ_ERRORS, error_responses
from customers.models import Channel, Order, RfmSegment


class CallerSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField(help_text="First and last name; empty if unknown.")
    email = serializers.CharField()
    phone = serializers.CharField(help_text="E.164")
    locale = serializers.CharField()


class CallerOrderSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    placed_at = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)


class CallerConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    last_message_at = serializers.DateTimeField()


class CallerCardSerializer(serializers.Serializer):
    customer = CallerSerializer()
    rfm_segment = serializers.ChoiceField(
        choices=RfmSegment.choices, allow_null=True, help_text="Null before the first RFM run."
    )
    segments = serializers.ListField(child=serializers.CharField(), help_text="Segment names.")
    last_orders = CallerOrderSerializer(many=True, help_text="Up to 3, newest first.")
    open_conversation = CallerConversationSerializer(
        allow_null=True, help_text="The most recent open or pending conversation."
    )
    greeting = serializers.CharField(help_text="In the customer's language, with their name.")


class CallerLookupView(APIView):
    @extend_schema(
        summary="Who is calling: the caller's card for the agent",
        description="Finds the customer by the profile phone or a phone identity. Any notation "
        "works (`+7 916 123-45-67`, `8 (916) 123-45-67`); numbers without a country code are "
        "read in DEFAULT_PHONE_REGION.",
        parameters=[OpenApiParameter("phone", str, required=True, pattern=PHONE_PATTERN)],
        responses={200: CallerCardSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        phone = request.query_params.get("phone", "").strip()
        if not phone:
            raise ValidationFailed([{"field": "phone", "message": "is required"}])
        try:
            card = caller_card(phone=phone)
        except ValueError as exc:
            raise ValidationFailed([{"field": "phone", "message": str(exc)}]) from None
        if card is None:
            raise ApiError("No customer has this phone number.", code="not_found", status_code=404)
        return Response(CallerCardSerializer(card).data)


urlpatterns = [
    path("calls/lookup", CallerLookupView.as_view(), name="call-lookup"),
    *push.urlpatterns,
]
