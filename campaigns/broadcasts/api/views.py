"""API v1 for broadcasts: list, create, get, change (before launch), schedule, launch, pause,
resume, cancel, results and the recipients. Views validate, call one service, serialise."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import SignedCursorPagination
from api.schema import ErrorSerializer, error_responses
from campaigns.broadcasts.api import schemas as s
from campaigns.broadcasts.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientGroup,
    RecipientState,
)
from campaigns.broadcasts.selectors import (
    broadcast_list,
    broadcast_recipients,
    broadcast_results,
)
from campaigns.broadcasts.services import launch
from campaigns.broadcasts.services.results import broadcast_stats_refresh
from campaigns.broadcasts.services.setup import (
    VARIANT_KEYS,
    BroadcastError,
    VariantSpec,
    broadcast_create,
    broadcast_update,
)
from campaigns.message_templates.models import Template
from campaigns.promo.models import PromoPool
from customers.api.schemas import parse
from customers.models import Customer, Segment

READ_ERRORS = (400, 401, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
# Fields a PATCH may set to null; null for any other is a 400 naming it.
NULLABLE = {"channel", "promo_pool", "send_at", "local_time", "template", "survey"}
WRONG_STATUS = OpenApiResponse(
    ErrorSerializer,
    description="wrong_status (the broadcast's status does not allow this; errors name "
    "`status`), or idempotency_request_in_progress",
)


class ByIdCursor(SignedCursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class RecipientCursor(SignedCursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def _broadcast(broadcast_id: int) -> Broadcast:
    return get_object_or_404(
        broadcast_list().prefetch_related("variants__version"), pk=broadcast_id
    )


def _refused(error: BroadcastError) -> ApiError:
    """The engine's refusal as the API's error: a wrong status is 409, anything else 400."""
    if error.code == "conflict":
        return ApiError(
            error.message,
            code="wrong_status",
            status_code=status.HTTP_409_CONFLICT,
            errors=[{"field": error.field, "message": error.message}],
        )
    return ValidationFailed([{"field": error.field, "message": error.message}])


def _choice(request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise ValidationFailed([{"field": name, "message": f"must be one of {', '.join(choices)}"}])
    return value


def _found(model, pk: int, field: str):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationFailed([{"field": field, "code": "not_found", "message": "no such id"}])
    return found


def _service_fields(data, given: set[str]) -> dict:
    """The validated body as the services' arguments: ids become rows (a missing one is a 400
    naming the field), variants become specs."""
    fields = {}
    for name in given:
        value = getattr(data, name)
        if value is None and name not in NULLABLE:
            raise ValidationFailed([{"field": name, "message": "must not be null"}])
        if name == "template" and value is not None:
            value = _found(Template, value, "template")
        elif name == "survey":
            # An unknown or archived survey is the services' 400 on `survey`.
            fields["survey_id"] = value
            continue
        elif name == "segment":
            value = _found(Segment, value, "segment")
        elif name == "promo_pool" and value is not None:
            value = _found(PromoPool, value, "promo_pool")
        elif name == "channel":
            value = value or ""  # each customer's preferred channel, in channel_order
        elif name == "variants":
            value = [
                VariantSpec(
                    template=_found(Template, v.template, f"variants[{i}].template")
                    if v.template
                    else None,
                    subject=v.subject,
                    channel=v.channel or "",
                )
                for i, v in enumerate(value)
            ]
        fields[name] = value
    return fields


class BroadcastListCreateView(generics.ListAPIView):
    serializer_class = s.BroadcastSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        broadcasts = broadcast_list().prefetch_related("variants__version")
        wanted = _choice(self.request, "status", BroadcastStatus.values)
        return broadcasts.filter(status=wanted) if wanted else broadcasts

    @extend_schema(
        summary="List broadcasts, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=BroadcastStatus.values, required=False),
        ],
        responses={200: s.BroadcastSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a broadcast (a draft)",
        description="Template (or survey), segment and promo pool are given by id; an unknown "
        "one is a 400 "
        "naming the field, as is anything the broadcast cannot be sent with (a template without "
        "a variant for the channel, an A/B test with one variant, …). Nothing is sent until "
        "`launch` or `schedule`.",
        request=s.BroadcastIn,
        responses={201: s.BroadcastSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.BroadcastIn, request.data)
        fields = _service_fields(data, set(s.BroadcastIn.model_fields))
        try:
            broadcast = broadcast_create(**fields)
        except BroadcastError as error:
            raise _refused(error) from None
        return Response(
            s.BroadcastSerializer(_broadcast(broadcast.pk)).data, status=status.HTTP_201_CREATED
        )


class BroadcastDetailView(APIView):
    @extend_schema(
        summary="Get a broadcast with its variants and progress",
        responses={200: s.BroadcastSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, broadcast_id: int):
        return Response(s.BroadcastSerializer(_broadcast(broadcast_id)).data)

    @extend_schema(
        summary="Change a draft or scheduled broadcast",
        description="Fields left out are not changed; `variants` replaces them all. Giving "
        "`channel_order` without `channel` switches to each customer's preferred channel. A "
        "broadcast that has been launched is fixed: 409 wrong_status.",
        request=s.BroadcastPatch,
        responses={
            200: s.BroadcastSerializer,
            409: WRONG_STATUS,
            **error_responses(*WRITE_ERRORS, 404),
        },
    )
    def patch(self, request, broadcast_id: int):
        broadcast = _broadcast(broadcast_id)
        data = parse(s.BroadcastPatch, request.data)
        given = set(data.model_fields_set)
        if "channel_order" in given and "channel" not in given:
            data.channel, given = None, given | {"channel"}
        fields = _service_fields(data, given)
        try:
            broadcast_update(broadcast, **fields)
        except BroadcastError as error:
            raise _refused(error) from None
        return Response(s.BroadcastSerializer(_broadcast(broadcast_id)).data)


def _action_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description,
        request=None,
        responses={
            200: s.BroadcastSerializer,
            409: WRONG_STATUS,
            **error_responses(400, 401, 403, 404, 429),
        },
    )


class _ActionView(APIView):
    service: staticmethod

    def _act(self, broadcast_id: int) -> Response:
        try:
            broadcast = self.service(_broadcast(broadcast_id))
        except BroadcastError as error:
            raise _refused(error) from None
        return Response(s.BroadcastSerializer(_broadcast(broadcast.pk)).data)


class BroadcastScheduleView(_ActionView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}
    service = staticmethod(launch.broadcast_schedule)

    @_action_schema(
        "Schedule a draft for its send_at",
        "Needs timing `at` and a send_at in the future (else 400 naming `send_at`); the minute "
        "tick launches it then. Scope `messages:send`.",
    )
    @idempotent
    def post(self, request, broadcast_id: int):
        return self._act(broadcast_id)


class BroadcastLaunchView(_ActionView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}
    service = staticmethod(launch.broadcast_launch)

    @_action_schema(
        "Launch now: snapshot the segment and start sending",
        "The segment's members at this moment become the recipients; workers then send in "
        "chunks (progress in the response and in `results`). Once only: launching again is 409 "
        "wrong_status, while a retry with the same Idempotency-Key replays the first answer. "
        "Scope `messages:send`.",
    )
    @idempotent
    def post(self, request, broadcast_id: int):
        return self._act(broadcast_id)


class BroadcastPauseView(_ActionView):
    service = staticmethod(launch.broadcast_pause)

    @_action_schema(
        "Pause a sending broadcast",
        "No more recipients are taken, and stored messages not yet sent are held.",
    )
    @idempotent
    def post(self, request, broadcast_id: int):
        return self._act(broadcast_id)


class BroadcastResumeView(_ActionView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}
    service = staticmethod(launch.broadcast_resume)

    @_action_schema(
        "Resume a paused broadcast",
        "Held messages go (local-time ones at their own hour) and the rest are taken again. "
        "Scope `messages:send`.",
    )
    @idempotent
    def post(self, request, broadcast_id: int):
        return self._act(broadcast_id)


class BroadcastCancelView(_ActionView):
    service = staticmethod(launch.broadcast_cancel)

    @_action_schema(
        "Cancel a broadcast for good",
        "Recipients not yet processed are cancelled and stored messages not yet sent are "
        "suppressed, which gives back their promo codes. A sent broadcast cannot be cancelled.",
    )
    @idempotent
    def post(self, request, broadcast_id: int):
        return self._act(broadcast_id)


class BroadcastResultsView(APIView):
    @extend_schema(
        summary="A broadcast's results: per variant, all together, the holdout and the uplift",
        description="The counts are refreshed by the minute tick while the broadcast sends and "
        "hourly until its conversion window closes (`refreshed_at`); `?refresh=1` recounts "
        "first, which reads the broadcast's recipients and is meant for small broadcasts. "
        "Money is a decimal string.",
        parameters=[
            OpenApiParameter(
                "refresh", str, enum=["0", "1"], required=False, description="1: recount now"
            )
        ],
        responses={200: s.BroadcastResultsSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, broadcast_id: int):
        broadcast = _broadcast(broadcast_id)
        if _choice(request, "refresh", ["0", "1"]) == "1" and broadcast.launched_at:
            broadcast_stats_refresh(broadcast)
        return Response(s.BroadcastResultsSerializer(broadcast_results(broadcast)).data)


class BroadcastRecipientsView(generics.ListAPIView):
    serializer_class = s.BroadcastRecipientSerializer
    pagination_class = RecipientCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BroadcastRecipient.objects.none()
        self.broadcast = _broadcast(self.kwargs["broadcast_id"])
        recipients = broadcast_recipients(self.broadcast)
        state = _choice(self.request, "state", RecipientState.values)
        group = _choice(self.request, "group", RecipientGroup.values)
        variant = _choice(self.request, "variant", list(VARIANT_KEYS))
        if state:
            recipients = recipients.filter(state=state)
        if group:
            recipients = recipients.filter(group=group)
        if variant:
            recipients = recipients.filter(variant__key=variant)
        return recipients

    def get_serializer(self, *args, **kwargs):
        if not args:  # the schema generator
            return super().get_serializer(*args, **kwargs)
        recipients = list(args[0])
        external_ids = dict(
            Customer.objects.filter(
                pk__in=[r.customer_id for r in recipients], erased_at__isnull=True
            ).values_list("pk", "external_id")
        )
        keys = {v.pk: v.key for v in self.broadcast.variants.all()}
        rows = [
            {
                "id": r.pk,
                "customer_external_id": external_ids.get(r.customer_id),
                "group": r.group,
                "variant": keys.get(r.variant_id),
                "state": r.state,
                "channel": r.channel,
                "message_id": r.message_id,
                "reason": r.reason,
                "send_after": r.send_after,
                "processed_at": r.processed_at,
            }
            for r in recipients
        ]
        return super().get_serializer(rows, *args[1:], **kwargs)

    @extend_schema(
        summary="A launched broadcast's recipients (the snapshot), in order",
        parameters=[
            OpenApiParameter("state", str, enum=RecipientState.values, required=False),
            OpenApiParameter("group", str, enum=RecipientGroup.values, required=False),
            OpenApiParameter("variant", str, enum=list(VARIANT_KEYS), required=False),
        ],
        responses={200: s.BroadcastRecipientSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
