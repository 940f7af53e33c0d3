"""API v1: conversations — the agent's inbox, one thread, status and assignee, agent replies."""

from __future__ import annotations

from typing import Literal

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from pydantic import Field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet
from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import SignedCursorPagination
from api.types import text
from channels.models import Conversation, MessageStatus
from channels.services.conversations import (
    conversation_list,
    conversation_reply,
    conversation_thread,
    conversation_update,
)
from customers.api import schemas
from customers.api.views import READ_ERRORS, WRITE_ERRORS, error_responses
from customers.models import Channel

MAX_REPLY_LENGTH = 10_000


# --- Input --------------------------------------------------------------------------------------
class ConversationPatch(schemas.Strict):
    # Left out: unchanged. A status cannot be null (pydantic does not validate the default).
    status: Literal["open", "pending", "resolved"] = None  # type: ignore[assignment]
    assignee: text(min_length=1, max_length=150) | None = Field(
        default=None, description="A staff username; null unassigns."
    )


class ReplyIn(schemas.Strict):
    body: text(min_length=1, max_length=MAX_REPLY_LENGTH)
    subject: text(max_length=998) = Field(default="", description="Email only.")
    idempotency_key: text(min_length=1, max_length=255) | None = Field(
        default=None, description="Sending again with the same key sends nothing more."
    )


class ConversationFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    customer = django_filters.CharFilter(
        field_name="customer__external_id", help_text="The customer's external id."
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text='A username, or "none" for unassigned.'
    )

    class Meta:
        model = Conversation
        fields: list[str] = []

    def filter_assignee(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee__username=value)


# --- Output -------------------------------------------------------------------------------------
class ConversationSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", help_text="External id.")
    assignee = serializers.CharField(
        source="assignee.username", allow_null=True, default=None, help_text="Username."
    )

    class Meta:
        model = Conversation
        fields = ["id", "customer", "channel", "status", "assignee", "opened_at",
                  "last_message_at", "resolved_at"]  # fmt: skip


class ThreadItemSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[("in", "From the customer"), ("out", "To the customer")]
    )
    id = serializers.IntegerField(help_text="Inbound message id (in) or message id (out).")
    at = serializers.DateTimeField(help_text="Received (in) or queued (out).")
    body = serializers.CharField()
    subject = serializers.CharField()
    source = serializers.CharField(help_text="Out: agent, auto_reply, system, campaign, …")
    status = serializers.CharField(help_text="Out: the delivery status.")


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]

    @extend_schema_field(ThreadItemSerializer(many=True))
    def get_messages(self, conversation) -> list[dict]:
        return ThreadItemSerializer(conversation_thread(conversation), many=True).data


class ReplyQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The message id (GET /api/v1/messages/{id}).")
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    status_reason = serializers.CharField(help_text="Why it was suppressed, if it was.")
    conversation = ConversationSerializer()


class ByLastMessageCursor(SignedCursorPagination):
    ordering = ("-last_message_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


def _conversation(conversation_id: int) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related("customer", "assignee"), pk=conversation_id
    )


def _agent(request) -> str:
    name = getattr(request.auth, "name", "")
    return f"api:{name}" if name else "api"


# --- Views --------------------------------------------------------------------------------------
class ConversationListView(generics.ListAPIView):
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    pagination_class = ByLastMessageCursor

    def get_queryset(self):
        return conversation_list()

    @extend_schema(
        summary="List conversations, most recently active first",
        responses={200: ConversationSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ConversationDetailView(APIView):
    @extend_schema(
        summary="Get a conversation with its messages, in and out, oldest first",
        responses={200: ConversationDetailSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, conversation_id: int):
        return Response(ConversationDetailSerializer(_conversation(conversation_id)).data)

    @extend_schema(
        summary="Change a conversation's status or assignee",
        description="Only the fields sent change; `assignee: null` unassigns. Sends the "
        "`conversation.updated` webhook when something changed.",
        request=ConversationPatch,
        responses={200: ConversationSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, conversation_id: int):
        conversation = _conversation(conversation_id)
        data = schemas.parse(ConversationPatch, request.data)
        changes = {}
        if "status" in data.model_fields_set:
            changes["status"] = data.status
        if "assignee" in data.model_fields_set:
            changes["assignee"] = data.assignee
        conversation = conversation_update(conversation=conversation, **changes)
        return Response(ConversationSerializer(_conversation(conversation.pk)).data)


class ConversationReplyView(APIView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}

    @extend_schema(
        summary="Reply to the customer in a conversation",
        description="Sends a transactional message on the conversation's channel (consent and "
        "the WhatsApp 24-hour window still apply: a refused reply is stored as `suppressed` "
        "with the reason). A reply to a resolved conversation reopens it as `pending`; if the "
        "customer has since opened another conversation on that channel, the answer is 409 "
        "`conversation_superseded`.",
        request=ReplyIn,
        responses={202: ReplyQueuedSerializer, **error_responses(*WRITE_ERRORS, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, conversation_id: int):
        conversation = _conversation(conversation_id)
        data = schemas.parse(ReplyIn, request.data)
        message = conversation_reply(
            conversation=conversation,
            body=data.body,
            subject=data.subject,
            idempotency_key=data.idempotency_key,
            agent=_agent(request),
        )
        body = {
            "id": message.pk,
            "status": message.status,
            "status_reason": message.status_reason,
            "conversation": ConversationSerializer(_conversation(conversation.pk)).data,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("conversations", ConversationListView.as_view(), name="conversation-list"),
    path(
        "conversations/<int:conversation_id>",
        ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:conversation_id>/messages",
        ConversationReplyView.as_view(),
        name="conversation-reply",
    ),
]
