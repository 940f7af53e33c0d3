"""API v1 for planning: journey maps (with their stages and cells) and communication strategies
(with content tagged by stage, and the funnel). Views validate, call one service, serialise."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ValidationFailed
from api.idempotency import idempotent
from api.pagination import SignedCursorPagination
from api.schema import error_responses
from campaigns.planning.api import schemas as s
from campaigns.planning.models import (
    CjmCell,
    CjmStage,
    CommunicationStrategy,
    CustomerJourneyMap,
    StrategyContent,
)
from campaigns.planning.selectors import (
    CONVERSION_DAYS,
    stage_conversions,
    strategy_funnel,
)
from campaigns.planning.services import (
    CellSpec,
    StageSpec,
    cjm_create,
    cjm_delete,
    cjm_stages_replace,
    cjm_update,
    strategy_content_add,
    strategy_content_remove,
    strategy_create,
    strategy_delete,
    strategy_update,
)
from customers.api.schemas import parse
from customers.models import Segment

READ_ERRORS = (400, 401, 403, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)


class ByIdCursor(SignedCursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


def _refused(error: ValidationError) -> ValidationFailed:
    return ValidationFailed(
        [
            {"field": field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    )


def _segment(pk: int | None, field: str) -> Segment | None:
    if pk is None:
        return None
    found = Segment.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationFailed([{"field": field, "code": "not_found", "message": "no such id"}])
    return found


def _stage_specs(stages: list[s.StageIn]) -> list[StageSpec]:
    return [
        StageSpec(
            name=stage.name,
            id=stage.id,
            segment=_segment(stage.segment, f"stages[{i}].segment"),
            cells=None
            if stage.cells is None
            else [
                CellSpec(
                    channel=cell.channel,
                    texts=cell.model_dump(exclude={"channel", "links"}),
                    links=[(link.kind, link.object_id) for link in cell.links],
                )
                for cell in stage.cells
            ],
        )
        for i, stage in enumerate(stages)
    ]


def _cjm_body(cjm_id: int) -> dict:
    stages = CjmStage.objects.select_related("segment").prefetch_related(
        Prefetch("cells", CjmCell.objects.order_by("id").prefetch_related("links"))
    )
    cjm = get_object_or_404(
        CustomerJourneyMap.objects.prefetch_related(Prefetch("stages", stages)), pk=cjm_id
    )
    conversions = stage_conversions(list(cjm.stages.all()))
    return s.CjmSerializer(cjm, context={"conversions": conversions}).data


class CjmListCreateView(generics.ListAPIView):
    serializer_class = s.CjmSummarySerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        return CustomerJourneyMap.objects.annotate(stage_count=Count("stages"))

    @extend_schema(
        summary="List customer journey maps, newest first",
        responses={200: s.CjmSummarySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a customer journey map",
        description="Without `stages` the map gets need, search, choice, purchase, use, loyalty "
        "and advocacy. A link to a journey, broadcast or template that does not exist is a 400 "
        "naming it, e.g. `stages[0].cells[1].links[0].object_id`.",
        request=s.CjmIn,
        responses={201: s.CjmSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.CjmIn, request.data)
        specs = None if data.stages is None else _stage_specs(data.stages)
        try:
            with transaction.atomic():
                cjm = cjm_create(
                    name=data.name,
                    audience=data.audience,
                    description=data.description,
                    channels=data.channels,
                    stage_names=None if specs is None else [],
                )
                if specs is not None:
                    cjm_stages_replace(cjm=cjm, stages=specs)
        except ValidationError as error:
            raise _refused(error) from None
        return Response(_cjm_body(cjm.pk), status=status.HTTP_201_CREATED)


class CjmDetailView(APIView):
    @extend_schema(
        summary="Get a customer journey map: stages with customers and conversion, and cells",
        responses={200: s.CjmSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, cjm_id: int):
        return Response(_cjm_body(cjm_id))

    @extend_schema(
        summary="Change a customer journey map",
        description="Fields left out are not changed. `stages` is the whole list in order: a "
        "stage given with its `id` is kept, one without is added, one left out is deleted; a "
        "stage's `cells`, when given, replace its cells.",
        request=s.CjmPatch,
        responses={200: s.CjmSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, cjm_id: int):
        cjm = get_object_or_404(CustomerJourneyMap, pk=cjm_id)
        data = parse(s.CjmPatch, request.data)
        fields = {name: getattr(data, name) for name in data.model_fields_set - {"stages"}}
        for name, value in fields.items():
            if value is None:
                raise ValidationFailed([{"field": name, "message": "must not be null"}])
        stages = data.stages if "stages" in data.model_fields_set else None
        if "stages" in data.model_fields_set and stages is None:
            raise ValidationFailed([{"field": "stages", "message": "must not be null"}])
        try:
            with transaction.atomic():
                if fields:
                    cjm_update(cjm=cjm, **fields)
                if stages is not None:
                    cjm_stages_replace(cjm=cjm, stages=_stage_specs(stages))
        except ValidationError as error:
            raise _refused(error) from None
        return Response(_cjm_body(cjm.pk))

    @extend_schema(
        summary="Delete a customer journey map",
        responses={204: None, **error_responses(*READ_ERRORS, 404)},
    )
    def delete(self, request, cjm_id: int):
        cjm_delete(cjm=get_object_or_404(CustomerJourneyMap, pk=cjm_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Strategies -----------------------------------------------------------------------------------
def _strategies():
    return CommunicationStrategy.objects.prefetch_related("segments", "content")


def _strategy(strategy_id: int) -> CommunicationStrategy:
    return get_object_or_404(_strategies(), pk=strategy_id)


def _segments(ids: list[int]) -> list[Segment]:
    found = Segment.objects.in_bulk(ids)
    for i, pk in enumerate(ids):
        if pk not in found:
            raise ValidationFailed(
                [{"field": f"segments[{i}]", "code": "not_found", "message": "no such id"}]
            )
    return [found[pk] for pk in ids]


class StrategyListCreateView(generics.ListAPIView):
    serializer_class = s.StrategySerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        return _strategies()

    @extend_schema(
        summary="List communication strategies, newest first",
        responses={200: s.StrategySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a communication strategy",
        description="A scheme (aida, acca, aidma), the target segments by id, and the four "
        "questions: to whom (`audience`), why (`goal`), when (`timing`), how (`tone`, "
        "`channels`).",
        request=s.StrategyIn,
        responses={201: s.StrategySerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.StrategyIn, request.data)
        fields = data.model_dump()
        fields["segments"] = _segments(data.segments)
        try:
            strategy = strategy_create(**fields)
        except ValidationError as error:
            raise _refused(error) from None
        return Response(
            s.StrategySerializer(_strategy(strategy.pk)).data, status=status.HTTP_201_CREATED
        )


class StrategyDetailView(APIView):
    @extend_schema(
        summary="Get a communication strategy with its tagged content",
        responses={200: s.StrategySerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, strategy_id: int):
        return Response(s.StrategySerializer(_strategy(strategy_id)).data)

    @extend_schema(
        summary="Change a communication strategy",
        description="Fields left out are not changed; `segments` replaces them all.",
        request=s.StrategyPatch,
        responses={200: s.StrategySerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, strategy_id: int):
        strategy = _strategy(strategy_id)
        data = parse(s.StrategyPatch, request.data)
        fields = {name: getattr(data, name) for name in data.model_fields_set}
        for name, value in fields.items():
            if value is None:
                raise ValidationFailed([{"field": name, "message": "must not be null"}])
        if "segments" in fields:
            fields["segments"] = _segments(fields["segments"])
        try:
            strategy_update(strategy=strategy, **fields)
        except ValidationError as error:
            raise _refused(error) from None
        return Response(s.StrategySerializer(_strategy(strategy.pk)).data)

    @extend_schema(
        summary="Delete a communication strategy",
        responses={204: None, **error_responses(*READ_ERRORS, 404)},
    )
    def delete(self, request, strategy_id: int):
        strategy_delete(strategy=_strategy(strategy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StrategyContentView(APIView):
    @extend_schema(
        summary="Tag a template, a broadcast or a journey step with a stage of the scheme",
        description="`stage` must be one of the scheme's; `object_id` must exist (400 naming "
        "`object_id`); a journey step also names its `step_id`. Tagging the same thing twice "
        "returns the existing tag.",
        request=s.ContentIn,
        responses={201: s.ContentSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    @idempotent
    def post(self, request, strategy_id: int):
        strategy = _strategy(strategy_id)
        data = parse(s.ContentIn, request.data)
        try:
            content = strategy_content_add(strategy=strategy, **data.model_dump())
        except ValidationError as error:
            raise _refused(error) from None
        return Response(s.ContentSerializer(content).data, status=status.HTTP_201_CREATED)


class StrategyContentDetailView(APIView):
    @extend_schema(
        summary="Untag a piece of content",
        responses={204: None, **error_responses(*READ_ERRORS, 404)},
    )
    def delete(self, request, strategy_id: int, content_id: int):
        content = get_object_or_404(StrategyContent, pk=content_id, strategy_id=strategy_id)
        strategy_content_remove(content=content)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StrategyFunnelView(APIView):
    @extend_schema(
        summary="The funnel per stage: reach, engagement and conversion of its content",
        description="Reach: customers sent a message from the stage's content (a template's "
        "messages, a broadcast's, or a journey step's). Engaged: of them, who opened or clicked "
        "one. Converted: who completed an order within `conversion_days` after one.",
        responses={200: s.FunnelSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, strategy_id: int):
        strategy = _strategy(strategy_id)
        rows = strategy_funnel(strategy)
        for row in rows:
            row["label"] = str(row["label"])
        body = {"strategy_id": strategy.pk, "conversion_days": CONVERSION_DAYS, "stages": rows}
        return Response(s.FunnelSerializer(body).data)
