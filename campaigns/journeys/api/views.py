"""API v1 for journeys: list, create, get, change the draft, versions, checks, publish, pause,
resume, archive, enrol a customer, step counts, a customer's runs and a dry run. Views validate,
call one service or selector, serialise."""

from typing import Any

from django.db.models import Prefetch
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
from api.schema import ErrorSerializer, error_responses
from campaigns.journeys.api import schemas as s
from campaigns.journeys.definition import definition_parse, error_loc
from campaigns.journeys.models import (
    Enrollment,
    EnrollmentLog,
    Journey,
    JourneyStatus,
    JourneyVersion,
)
from campaigns.journeys.selectors import journey_step_counts, journey_totals
from campaigns.journeys.services import authoring
from campaigns.journeys.services.authoring import JourneyError
from campaigns.journeys.services.checks import definition_problems
from campaigns.journeys.services.dryrun import journey_dry_run
from campaigns.journeys.services.triggers import journey_enrol
from customers.api.schemas import parse
from customers.models import Customer
from customers.selectors import customer_get, customer_list

READ_ERRORS = (400, 401, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
WRONG_STATUS = OpenApiResponse(
    ErrorSerializer,
    description="wrong_status (the journey's status does not allow this; errors name "
    "`status`), or idempotency_request_in_progress",
)
# Why journey_enrol started no run, as the API says it.
REFUSALS = {
    "once": "The journey's entry policy is once, and the customer has had a run.",
    "active": "The customer has an open run of this journey (with this entry key).",
    "cooldown": "The customer's last run started within the journey's cooldown.",
    "not_live": "The journey is not live (a draft, paused or archived).",
}


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


def _journey(journey_id: int) -> Journey:
    return get_object_or_404(_journeys(), pk=journey_id)


def _journey_body(journey_id: int) -> dict:
    journey = _journey(journey_id)
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


def _customer(external_id: str, field: str = "customer") -> Customer:
    found = customer_list().filter(external_id=external_id).first()
    if found is None:
        raise ValidationFailed(
            [{"field": field, "code": "not_found", "message": "no such customer"}]
        )
    return found


def _choice(request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise ValidationFailed([{"field": name, "message": f"must be one of {', '.join(choices)}"}])
    return value


def _number(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 2**31:
        raise ValidationFailed([{"field": name, "message": "must be a whole number from 1"}])
    return int(value)


class JourneyListCreateView(generics.ListAPIView):
    serializer_class = s.JourneySerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        wanted = _choice(self.request, "status", JourneyStatus.values)
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
        journey = _journey(journey_id)
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
        journey = _journey(self.kwargs["journey_id"])
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
            journey=_journey(journey_id),
            number=number,
        )
        return Response(s.JourneyVersionSerializer(version).data)


class JourneyChecksView(APIView):
    @extend_schema(
        summary="The draft's problems: what publishing would refuse",
        responses={200: s.JourneyChecksSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, journey_id: int):
        journey = _journey(journey_id)
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
        journey = _journey(journey_id)
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
            self.service(journey=_journey(journey_id))
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


def _enrollments():
    return Enrollment.objects.select_related("journey", "version", "customer")


class JourneyEnrollView(APIView):
    required_scopes = {"POST": ApiScope.MESSAGES_SEND}

    @extend_schema(
        summary="Start a run for a customer",
        description="Any live journey takes a run this way, whatever its trigger. The run "
        "takes its first steps at once (a first send is stored and queued before the answer). "
        "The entry policy decides: a refusal is 409 `entry_refused`, its error naming the "
        "reason as `code`: `once`, `active`, `cooldown` or `not_live`. An unknown customer is a "
        "400 naming `customer`. Scope `messages:send`.",
        request=s.JourneyEnrolIn,
        responses={
            201: s.JourneyEnrollmentSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="entry_refused (errors[0].code: once, active, cooldown or "
                "not_live), or idempotency_request_in_progress",
            ),
            **error_responses(*WRITE_ERRORS, 404),
        },
    )
    @idempotent
    def post(self, request, journey_id: int):
        journey = _journey(journey_id)
        data = parse(s.JourneyEnrolIn, request.data)
        customer = _customer(data.customer)
        result = journey_enrol(journey=journey, customer_id=customer.pk, properties=data.properties)
        if result.enrollment is None:
            field = "status" if result.refused == "not_live" else "customer"
            raise ApiError(
                REFUSALS.get(result.refused, "The journey's entry policy refused the run."),
                code="entry_refused",
                status_code=status.HTTP_409_CONFLICT,
                errors=[
                    {"field": field, "code": result.refused, "message": REFUSALS[result.refused]}
                ],
            )
        enrollment = _enrollments().get(pk=result.enrollment.pk)
        return Response(
            s.JourneyEnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED
        )


def _counts_row(step: str, kind: str, name: str, counts: dict[str, Any]) -> dict:
    return {
        "step": step,
        "type": kind,
        "name": name,
        "entered": counts.get("entered", 0),
        "waiting": counts.get("waiting", 0),
        "converted": counts.get("converted", 0),
        "revenue": counts.get("revenue", 0),
        "passed": {k.split(":", 1)[1]: n for k, n in counts.items() if k.startswith("passed:")},
        "exited": {k.split(":", 1)[1]: n for k, n in counts.items() if k.startswith("exited:")},
    }


class JourneyStatsView(APIView):
    @extend_schema(
        summary="Counts per step of the live version (or ?version=N)",
        description="Per step: runs that entered it, are at it now (`waiting`), converted there "
        "(with revenue, a decimal string), left it by each way out (`passed`) and exited there "
        "by reason (`exited`). `journey` is the version as a whole. Before the first publish, "
        "`version` is null and there are no steps.",
        parameters=[
            OpenApiParameter("version", int, required=False, description="A version's number.")
        ],
        responses={200: s.JourneyStatsSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, journey_id: int):
        journey = _journey(journey_id)
        number = _number(request, "version")
        if number is not None:
            version = get_object_or_404(JourneyVersion, journey=journey, number=number)
        else:
            version = journey.live_version
        if version is None:
            body = {"version": None, "journey": _counts_row("", "", "", {}), "steps": []}
            return Response(s.JourneyStatsSerializer(body).data)
        counts = journey_step_counts(version)
        steps = definition_parse(version.definition).steps
        body = {
            "version": version.number,
            "journey": _counts_row("", "", "", counts.get("", {})),
            "steps": [_counts_row(x.id, x.type, x.name, counts.get(x.id, {})) for x in steps],
        }
        return Response(s.JourneyStatsSerializer(body).data)


class JourneyDryRunView(APIView):
    required_scopes = {"POST": ApiScope.READ}  # nothing is saved or sent

    @extend_schema(
        summary="The path a customer would take through the draft; nothing is saved or sent",
        description="Each step with what it would do, the way out it would take and the "
        "messages it would render (with the reason one would not be sent). Branches and splits "
        "read the customer's real data; waits take the outcome `assume` names, else their "
        "timeout. Needs only `read`.",
        request=s.JourneyDryRunIn,
        responses={200: s.JourneyDryRunSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def post(self, request, journey_id: int):
        journey = _journey(journey_id)
        data = parse(s.JourneyDryRunIn, request.data)
        customer = _customer(data.customer)
        path = journey_dry_run(
            journey=journey, customer=customer, assume=data.assume, properties=data.properties
        )
        return Response(
            s.JourneyDryRunSerializer({"customer": customer.external_id, "path": path}).data
        )


class CustomerJourneysView(generics.ListAPIView):
    serializer_class = s.CustomerJourneyRunSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        customer = customer_get(external_id=self.kwargs["external_id"])
        runs = _enrollments().filter(customer=customer)
        if _choice(self.request, "history", ["0", "1"]) == "1":
            log = EnrollmentLog.objects.order_by("at", "id")
            runs = runs.prefetch_related(Prefetch("log", queryset=log, to_attr="history_rows"))
        return runs

    @extend_schema(
        summary="A customer's journey runs, newest first",
        description="Each run with its journey, version, state, current step, entry, "
        "conversion and revenue; `?history=1` adds each run's log, oldest first.",
        parameters=[
            OpenApiParameter(
                "history", str, enum=["0", "1"], required=False, description="1: with the log"
            )
        ],
        responses={200: s.CustomerJourneyRunSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
