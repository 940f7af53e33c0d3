"""API v1 for journeys: list, create, get, change the draft, versions, checks, publish, pause,
resume and archive (runs, counts and the dry run: `runs.py`). Views validate, call one service
or selector, serialise."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from pydantic import ValidationError
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import SignedCursorPagination
from api.schema import ErrorSerializer, error_responses, links_to
from campaigns.journeys.api import schemas as s
from campaigns.journeys.definition import definition_parse, error_loc
from campaigns.journeys.models import (
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from campaigns.journeys.selectors import journey_totals
from campaigns.journeys.services import authoring
from campaigns.journeys.services.authoring import JourneyError
from campaigns.journeys.services.checks import definition_problems
from customers.api.schemas import parse

READ_ERRORS = (400, 401, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
WRONG_STATUS = OpenApiResponse(
    ErrorSerializer,
    description="wrong_status (the journey's status does not allow this; errors name "
    "`status`), or idempotency_request_in_progress",
)


class ByIdCursor(SignedCursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class VersionCursor(SignedCursorPagination):
    ordering = "-number"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


def _journeys():
    return Journey.objects.select_related("live_version")


def journey_or_404(journey_id: int) -> Journey:
    return get_object_or_404(_journeys(), pk=journey_id)


def _journey_body(journey_id: int) -> dict:
    journey = journey_or_404(journey_id)
    return s.JourneySerializer(journey, context={"totals": journey_totals([journey.pk])}).data


def _path(loc: tuple) -> str:
    """A field path as every API error names one: `definition.steps[0].template_id`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _definition_checked(definition: dict) -> dict:
    """The definition, or a 400 listing each field pydantic refused, inside `definition`."""
    try:
        definition_parse(definition)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {
                    "field": _path(("definition", *error_loc(error["loc"], definition))),
                    "message": error["msg"].removeprefix("Value error, "),
                }
                for error in exc.errors(include_url=False)
            ]
        ) from None
    return definition


def _refused(error: JourneyError) -> ApiError:
    """The engine's refusal as the API's error: a wrong status is 409; a draft with problems is
    400 `draft_has_problems` listing them; anything else a 400 naming the field."""
    if error.code == "wrong_status":
        return ApiError(
            error.message,
            code="wrong_status",
            status_code=status.HTTP_409_CONFLICT,
            errors=[{"field": error.field, "message": error.message}],
        )
    if error.problems:
        return ApiError(
            "The draft has problems; fix them before publishing (see `checks`).",
            code="draft_has_problems",
            errors=[problem.as_dict() for problem in error.problems],
        )
    if error.code == "not_found":
        return ApiError(error.message, code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    return ValidationFailed([{"field": error.field, "message": error.message}])


def choice_param(request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise ValidationFailed([{"field": name, "message": f"must be one of {', '.join(choices)}"}])
    return value


class JourneyListCreateView(generics.ListAPIView):
    serializer_class = s.JourneySerializer
    openapi_links = {
        "POST": {
            201: links_to(
                [
                    "journeys_retrieve",
                    "journeys_partial_update",
                    "journeys_checks_retrieve",
                    "journeys_publish_create",
                    "journeys_pause_create",
                    "journeys_archive_create",
                    "journeys_stats_retrieve",
                    "journeys_versions_list",
                ],
                parameter="journey_id",
                field="id",
            )
        }
    }
    pagination_class = ByIdCursor

    def get_queryset(self):
        wanted = choice_param(self.request, "status", JourneyStatus.values)
        return _journeys().filter(status=wanted) if wanted else _journeys()

    def get_serializer(self, *args, **kwargs):
        if args:  # a page: the totals of its journeys in three grouped queries
            journeys = list(args[0])
            kwargs["context"] = {
                **self.get_serializer_context(),
                "totals": journey_totals([j.pk for j in journeys]),
            }
            return self.serializer_class(journeys, *args[1:], **kwargs)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        summary="List journeys, newest first",
        parameters=[OpenApiParameter("status", str, enum=JourneyStatus.values, required=False)],
        responses={200: s.JourneySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a journey (a draft)",
        description="The definition is checked field by field: a bad one is a 400 naming each "
        "field inside it (`definition.steps[0].template_id`). Problems of the whole graph (an "
        "unreachable step, a template without the channel's variant) are allowed in a draft; "
        "`checks` lists them and `publish` refuses them. Nothing runs until `publish`.",
        request=s.JourneyIn,
        responses={201: s.JourneySerializer, **error_responses(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.JourneyIn, request.data)
        try:
            journey = authoring.journey_create(
                name=data.name,
                description=data.description,
                definition=_definition_checked(data.definition),
            )
        except JourneyError as error:
            raise _refused(error) from None
        return Response(_journey_body(journey.pk), status=status.HTTP_201_CREATED)


class JourneyDetailView(APIView):
    @extend_schema(
        summary="Get a journey: its draft, live version, status and totals",
        responses={200: s.JourneySerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, journey_id: int):
        return Response(_journey_body(journey_id))

    @extend_schema(
        summary="Change a journey's name, description or draft",
        description="Fields left out are not changed; `definition` replaces the whole draft "
        "(checked as on create). Live runs are not affected until the draft is published. "
        "An archived journey is fixed: 409 wrong_status.",
        request=s.JourneyPatch,
        responses={
            200: s.JourneySerializer,
            409: WRONG_STATUS,
            **error_responses(*WRITE_ERRORS, 404),
        },
    )
    def patch(self, request, journey_id: int):
        journey = journey_or_404(journey_id)
        data = parse(s.JourneyPatch, request.data)
        given = data.model_fields_set
        try:
            authoring.journey_draft_save(
                journey=journey,
                definition=_definition_checked(data.definition)
                if "definition" in given
                else journey.draft,
                name=data.name if "name" in given else None,
                description=data.description if "description" in given else None,
            )
        except JourneyError as error:
            raise _refused(error) from None
        return Response(_journey_body(journey_id))


class JourneyVersionListView(generics.ListAPIView):
    serializer_class = s.JourneyVersionSerializer
    pagination_class = VersionCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return JourneyVersion.objects.none()
        journey = journey_or_404(self.kwargs["journey_id"])
        return JourneyVersion.objects.filter(journey=journey).select_related("published_by")

    @extend_schema(
        summary="List a journey's published versions, newest first",
        responses={200: s.JourneyVersionSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JourneyVersionDetailView(APIView):
    @extend_schema(
        summary="Get one published version, as it runs",
        responses={200: s.JourneyVersionSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, journey_id: int, number: int):
        version = get_object_or_404(
            JourneyVersion.objects.select_related("published_by"),
            journey=journey_or_404(journey_id),
            number=number,
        )
        return Response(s.JourneyVersionSerializer(version).data)


class JourneyChecksView(APIView):
    @extend_schema(
        summary="The draft's problems: what publishing would refuse",
        responses={200: s.JourneyChecksSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, journey_id: int):
        journey = journey_or_404(journey_id)
        problems = [p.as_dict() for p in definition_problems(definition_parse(journey.draft))]
        return Response(
            s.JourneyChecksSerializer({"publishable": not problems, "problems": problems}).data
        )


class JourneyPublishView(APIView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}

    @extend_schema(
        summary="Publish the draft as the next version",
        description="New entrants follow the new version at once; a first publish makes the "
        "journey live (and enrols a segment's current members if its trigger asks). A draft "
        "with problems is 400 `draft_has_problems`, `errors` listing each one with its `step`, "
        "`field`, `code` and `message` (as `checks` gives them). `mapping` {old step: new step} "
        "moves the runs open on the live version at `old` to `new`; a step that is not in the "
        "live version, or not in the new one, is a 400 naming `mapping.<old step>`. Publishing "
        "makes messages go out, so it needs scope `messages:send`.",
        request=s.JourneyPublishIn,
        responses={
            201: s.JourneyVersionSerializer,
            409: WRONG_STATUS,
            **error_responses(*WRITE_ERRORS, 404),
        },
    )
    @idempotent
    def post(self, request, journey_id: int):
        journey = journey_or_404(journey_id)
        data = parse(s.JourneyPublishIn, request.data if request.data else {})
        try:
            version = authoring.journey_publish(
                journey=journey, mapping=data.mapping, note=data.note
            )
        except JourneyError as error:
            raise _refused(error) from None
        return Response(s.JourneyVersionSerializer(version).data, status=status.HTTP_201_CREATED)


def _action_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description,
        request=None,
        responses={
            200: s.JourneySerializer,
            409: WRONG_STATUS,
            **error_responses(400, 401, 403, 404, 429),
        },
    )


class _ActionView(APIView):
    service: staticmethod

    def _act(self, journey_id: int) -> Response:
        try:
            self.service(journey=journey_or_404(journey_id))
        except JourneyError as error:
            raise _refused(error) from None
        return Response(_journey_body(journey_id))


class JourneyPauseView(_ActionView):
    service = staticmethod(authoring.journey_pause)

    @_action_schema(
        "Pause a live journey",
        "No new runs start and no steps run; waiting runs keep their timers. Live only.",
    )
    @idempotent
    def post(self, request, journey_id: int):
        return self._act(journey_id)


class JourneyResumeView(_ActionView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}
    service = staticmethod(authoring.journey_resume)

    @_action_schema(
        "Resume a paused journey",
        "Runs whose time came while paused act at the next tick. Paused only. Scope "
        "`messages:send`.",
    )
    @idempotent
    def post(self, request, journey_id: int):
        return self._act(journey_id)


class JourneyArchiveView(_ActionView):
    service = staticmethod(authoring.journey_archive)

    @_action_schema(
        "Archive a journey for good",
        "Every open run exits (`archived`); no new runs, no more changes.",
    )
    @idempotent
    def post(self, request, journey_id: int):
        return self._act(journey_id)
