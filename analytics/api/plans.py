"""API v1 for retrospective forecasts and SMART goals. Views validate, call one service, serialise."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api import plans_schemas as s
from analytics.api.paging import ByIdCursor
from analytics.forecast.service import ForecastError, forecast_compute
from analytics.goals.service import GoalError, goal_archive, goal_check, goal_create
from analytics.models import Forecast, Goal
from api.errors import ValidationFailed
from api.idempotency import idempotent
from api.schema import error_responses
from campaigns.journeys.models import Journey
from campaigns.planning.models import CommunicationStrategy
from customers.api.schemas import parse
from customers.models import Segment

READ_ERRORS = (400, 401, 403, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)


def _refused(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed([{"field": field, "code": code, "message": message}])


def _segment(pk: int | None) -> Segment | None:
    if pk is None:
        return None
    found = Segment.objects.filter(pk=pk).first()
    if found is None:
        raise _refused("segment", "no such id", "not_found")
    return found


def _many(model, ids: list[int], field: str) -> list:
    found = {o.pk: o for o in model.objects.filter(pk__in=ids)}
    for i, pk in enumerate(ids):
        if pk not in found:
            raise _refused(f"{field}[{i}]", "no such id", "not_found")
    return [found[pk] for pk in ids]


class ForecastListCreateView(generics.ListAPIView):
    serializer_class = s.ForecastSerializer
    pagination_class = ByIdCursor
    queryset = Forecast.objects.all()

    @extend_schema(
        summary="List saved retrospective forecasts, newest first",
        responses={200: s.ForecastSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Make a retrospective forecast and keep it",
        description="Measures `metric` over the same window (`launch` + `horizon_days`) in each "
        "earlier year with data, then applies the lowest, mean and highest rate to today's base: "
        "the pessimistic, neutral and optimistic outcomes. retention: share of the customers "
        "active at the window's start (an order within `activity_days`) who ordered in it; "
        "conversion: share of the customers messaged in the window who ordered after their first "
        "message; revenue: revenue per active customer. No usable earlier year is a 400 on "
        "`launch`.",
        request=s.ForecastIn,
        responses={201: s.ForecastSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.ForecastIn, request.data)
        segment = _segment(data.segment)
        try:
            result = forecast_compute(
                metric=data.metric,
                launch=data.launch,
                horizon_days=data.horizon_days,
                channel=data.channel,
                segment_id=segment.pk if segment else None,
                activity_days=data.activity_days,
            )
        except ForecastError as error:
            raise _refused(error.field, error.message) from None
        forecast = Forecast.objects.create(
            name=data.name,
            metric=data.metric,
            launch=data.launch,
            horizon_days=data.horizon_days,
            channel=data.channel,
            segment=segment,
            activity_days=data.activity_days,
            result=result.as_dict(),
        )
        return Response(s.ForecastSerializer(forecast).data, status=status.HTTP_201_CREATED)


class ForecastDetailView(APIView):
    @extend_schema(
        summary="Get a saved forecast",
        responses={200: s.ForecastSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, forecast_id: int):
        return Response(s.ForecastSerializer(get_object_or_404(Forecast, pk=forecast_id)).data)


def _goals():
    return Goal.objects.prefetch_related("strategies", "journeys")


class GoalListCreateView(generics.ListAPIView):
    serializer_class = s.SmartGoalSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        goals = _goals()
        if self.request.query_params.get("archived") != "true":
            goals = goals.filter(archived_at__isnull=True)
        return goals

    @extend_schema(
        summary="List goals, newest first (archived ones with ?archived=true)",
        responses={200: s.SmartGoalSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a SMART goal; its baseline is measured now",
        description="`metric` over a trailing window of `window_days`, narrowed to `segment` "
        "and `channel`. Progress is rechecked hourly; a goal that goes off track sends a "
        "`goal.off_track` webhook once.",
        request=s.GoalIn,
        responses={201: s.SmartGoalSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.GoalIn, request.data)
        segment = _segment(data.segment)
        strategies = _many(CommunicationStrategy, data.strategies, "strategies")
        journeys = _many(Journey, data.journeys, "journeys")
        try:
            goal = goal_create(
                name=data.name,
                metric=data.metric,
                target=data.target,
                deadline=data.deadline,
                segment=segment,
                channel=data.channel,
                window_days=data.window_days,
                strategies=strategies,
                journeys=journeys,
            )
        except GoalError as error:
            raise _refused(error.field, error.message) from None
        return Response(s.SmartGoalSerializer(_goals().get(pk=goal.pk)).data, status=201)


class GoalDetailView(APIView):
    @extend_schema(
        summary="Get a goal with its latest progress",
        responses={200: s.SmartGoalSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, goal_id: int):
        return Response(s.SmartGoalSerializer(get_object_or_404(_goals(), pk=goal_id)).data)

    @extend_schema(
        summary="Change a goal's name, target, deadline or linked work, or archive it",
        description="Fields left out are not changed. The metric, filters and baseline stay as "
        "they were measured; make a new goal to measure something else.",
        request=s.GoalPatch,
        responses={200: s.SmartGoalSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, goal_id: int):
        goal = get_object_or_404(Goal, pk=goal_id)
        data = parse(s.GoalPatch, request.data)
        given = data.model_fields_set
        for name in given:
            if getattr(data, name) is None:
                raise _refused(name, "must not be null")
        if "deadline" in given and data.deadline <= timezone.localdate():
            raise _refused("deadline", "The deadline must be after today.")
        strategies = (
            _many(CommunicationStrategy, data.strategies, "strategies")
            if "strategies" in given
            else None
        )
        journeys = _many(Journey, data.journeys, "journeys") if "journeys" in given else None
        with transaction.atomic():
            for name in {"name", "target", "deadline"} & given:
                setattr(goal, name, getattr(data, name))
            goal.save()
            if strategies is not None:
                goal.strategies.set(strategies)
            if journeys is not None:
                goal.journeys.set(journeys)
            if data.archived is True:
                goal_archive(goal)
            elif data.archived is False and goal.archived_at:
                goal.archived_at = None
                goal.save(update_fields=["archived_at"])
            if {"target", "deadline"} & given:
                goal_check(goal)
        return Response(s.SmartGoalSerializer(_goals().get(pk=goal.pk)).data)


class GoalCheckView(APIView):
    @extend_schema(
        summary="Recompute a goal's progress now",
        request=None,
        responses={200: s.SmartGoalSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    @idempotent
    def post(self, request, goal_id: int):
        goal = get_object_or_404(Goal, pk=goal_id, archived_at__isnull=True)
        goal_check(goal)
        return Response(s.SmartGoalSerializer(_goals().get(pk=goal.pk)).data)
