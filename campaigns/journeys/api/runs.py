"""API v1 for journey runs: enrol a customer, the step counts, a dry run and a customer's runs."""

from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.idempotency import idempotent
from api.models import ApiScope
from api.schema import ErrorSerializer, error_responses
from campaigns.journeys.api import schemas as s
from campaigns.journeys.api.views import (
    READ_ERRORS,
    WRITE_ERRORS,
    ByIdCursor,
    choice_param,
    journey_or_404,
)
from campaigns.journeys.definition import definition_parse
from campaigns.journeys.models import Enrollment, EnrollmentLog, JourneyVersion
from campaigns.journeys.selectors import journey_step_counts
from campaigns.journeys.services.dryrun import journey_dry_run
from campaigns.journeys.services.triggers import journey_enrol
from customers.api.schemas import parse
from customers.models import Customer
from customers.selectors import customer_get, customer_list

# Why journey_enrol started no run, as the API says it.
REFUSALS = {
    "once": "The journey's entry policy is once, and the customer has had a run.",
    "active": "The customer has an open run of this journey (with this entry key).",
    "cooldown": "The customer's last run started within the journey's cooldown.",
    "not_live": "The journey is not live (a draft, paused or archived).",
}


def _customer(external_id: str) -> Customer:
    found = customer_list().filter(external_id=external_id).first()
    if found is None:
        raise ValidationFailed(
            [{"field": "customer", "code": "not_found", "message": "no such customer"}]
        )
    return found


def _number(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 2**31:
        raise ValidationFailed([{"field": name, "message": "must be a whole number from 1"}])
    return int(value)


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
        journey = journey_or_404(journey_id)
        data = parse(s.JourneyEnrolIn, request.data)
        customer = _customer(data.customer)
        result = journey_enrol(journey=journey, customer_id=customer.pk, properties=data.properties)
        if result.enrollment is None:
            reason = REFUSALS.get(result.refused, "The journey's entry policy refused the run.")
            field = "status" if result.refused == "not_live" else "customer"
            raise ApiError(
                reason,
                code="entry_refused",
                status_code=status.HTTP_409_CONFLICT,
                errors=[{"field": field, "code": result.refused, "message": reason}],
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
        journey = journey_or_404(journey_id)
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
        journey = journey_or_404(journey_id)
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
        if choice_param(self.request, "history", ["0", "1"]) == "1":
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
