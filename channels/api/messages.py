"""API v1 for messages: send one (202, delivered in the background), read one, list them."""

import hashlib
import json
from typing import Annotated, Any, Literal

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from pydantic import Field, StringConstraints
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from channels.models import (
    Message,
    MessageCategory,
    MessageSource,
    MessageStatus,
    MessageStatusChange,
)
from channels.services.messages import message_send
from customers.api import schemas
from customers.api.views import READ_ERRORS, WRITE_ERRORS, error_responses
from customers.models import Channel, Customer


# --- Input --------------------------------------------------------------------------------------
class MessageIn(schemas.Strict):
    customer: schemas.ExternalId = Field(description="The customer's CRM id (external_id).")
    channel: Literal["email", "sms", "whatsapp", "telegram", "viber", "push"]
    category: Literal["marketing", "transactional"]
    subject: Annotated[str, StringConstraints(max_length=998)] = ""
    body: Annotated[str, StringConstraints(max_length=20_000)] = ""
    html: Annotated[str, StringConstraints(max_length=500_000)] = ""
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description="Channel extras: WhatsApp `template` {name, language, params}, push `url`, "
        "Telegram `buttons`.",
    )
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


def _content_errors(data: MessageIn) -> list[dict]:
    errors = []
    if data.channel == Channel.EMAIL and not data.subject:
        errors.append({"field": "subject", "message": "an email needs a subject"})
    if not (data.body or data.html or data.payload.get("template")):
        errors.append(
            {"field": "body", "message": "give a body (or html, or a WhatsApp payload.template)"}
        )
    return errors


# --- Output -------------------------------------------------------------------------------------
class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageStatusChange
        fields = ["status", "reason", "source", "occurred_at"]


class MessageSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id")
    is_final = serializers.BooleanField()

    class Meta:
        model = Message
        fields = [
            "id",
            "customer",
            "channel",
            "provider",
            "address",
            "category",
            "source",
            "source_ref",
            "subject",
            "body",
            "status",
            "status_reason",
            "is_final",
            "parts",
            "attempts",
            "provider_message_id",
            "idempotency_key",
            "conversation_id",
            "queued_at",
            "send_after",
            "sent_at",
            "delivered_at",
            "opened_at",
            "clicked_at",
            "failed_at",
        ]


class MessageDetailSerializer(MessageSerializer):
    status_changes = StatusChangeSerializer(many=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "html", "payload", "status_changes"]


# --- Views --------------------------------------------------------------------------------------
class MessageFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__external_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    category = django_filters.ChoiceFilter(choices=MessageCategory.choices)
    source = django_filters.ChoiceFilter(choices=MessageSource.choices)
    queued_since = django_filters.IsoDateTimeFilter(field_name="queued_at", lookup_expr="gte")

    class Meta:
        model = Message
        fields = ["customer", "channel", "status", "category", "source", "queued_since"]


class NewestFirstPagination(CursorPagination):
    ordering = ("-queued_at", "-id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


class MessageListCreateView(generics.ListAPIView):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return Message.objects.select_related("customer")

    @extend_schema(
        summary="List messages",
        responses={200: MessageSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Send a message",
        description="Checks consent, address, frequency caps and quiet hours, stores the message "
        "and answers 202 at once; delivery runs in the background. A refused send is stored as "
        "`suppressed` with `status_reason`. The same `idempotency_key` again returns the first "
        "message and sends nothing; reusing it for a different request is 422.",
        request=MessageIn,
        responses={202: MessageSerializer, **error_responses(*WRITE_ERRORS, 404, 422)},
    )
    def post(self, request):
        data = schemas.parse(MessageIn, request.data)
        if errors := _content_errors(data):
            raise ValidationFailed(errors)
        customer = get_object_or_404(Customer, external_id=data.customer, erased_at__isnull=True)
        request_hash = _request_hash(data)
        message = message_send(
            customer=customer,
            channel=data.channel,
            category=data.category,
            source=MessageSource.API,
            subject=data.subject,
            body=data.body,
            html=data.html,
            payload=data.payload,
            source_ref=_api_key_name(request),
            idempotency_key=data.idempotency_key,
            request_hash=request_hash,
        )
        if data.idempotency_key and _differs(message, customer.pk, data.channel, request_hash):
            raise ApiError(
                "This idempotency_key was used for a different message.",
                code="idempotency_key_reused",
                status_code=422,
            )
        return Response(MessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)


class MessageDetailView(APIView):
    @extend_schema(
        summary="Get a message with its status history",
        responses={200: MessageDetailSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, message_id: int):
        message = get_object_or_404(
            Message.objects.select_related("customer").prefetch_related(
                Prefetch(
                    "status_changes",
                    queryset=MessageStatusChange.objects.order_by("occurred_at", "id"),
                )
            ),
            pk=message_id,
        )
        return Response(MessageDetailSerializer(message).data)


def _request_hash(data: MessageIn) -> str:
    """SHA-256 of the request as received (its key left out), in a canonical JSON form."""
    fields = data.model_dump(mode="json", exclude={"idempotency_key"})
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _differs(message: Message, customer_id: int, channel: str, request_hash: str) -> bool:
    """Whether the message stored under this idempotency key came from a different request.

    The stored body is no guide: marketing SMS get an opt-out line and links become short links.
    Messages stored before request hashes were kept (or sent by campaigns and journeys) are
    compared by customer and channel only."""
    if message.request_hash:
        return message.request_hash != request_hash
    return (message.customer_id, message.channel) != (customer_id, channel)


def _api_key_name(request) -> str:
    key = getattr(request, "auth", None)
    return f"api_key:{key.name}"[:100] if key is not None else ""


urlpatterns = [
    path("messages", MessageListCreateView.as_view(), name="message-list"),
    path("messages/<int:message_id>", MessageDetailView.as_view(), name="message-detail"),
]
