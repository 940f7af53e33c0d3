"""API v1 for loyalty points: balance, history, earn and spend. Views validate, call one service,
serialise."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError
from api.idempotency import IDEMPOTENCY_HEADER, idempotent
from api.pagination import SignedCursorPagination
from api.schema import ErrorSerializer, error_responses
from campaigns.loyalty.api.schemas import PointsChangeIn
from campaigns.loyalty.api.serializers import (
    PointsBalanceSerializer,
    PointsChangeSerializer,
    PointsEntrySerializer,
)
from campaigns.loyalty.models import PointsEntry
from campaigns.loyalty.selectors import points_history, points_summary
from campaigns.loyalty.services import InsufficientPoints, KeyReused, points_earn, points_spend
from customers.api.schemas import parse
from customers.selectors import customer_get

READ_ERRORS = (401, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 415, 429)


class PointsHistoryPagination(SignedCursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class PointsBalanceView(APIView):
    @extend_schema(
        summary="A customer's points balance and soonest expiry",
        responses={200: PointsBalanceSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        return Response(PointsBalanceSerializer(points_summary(customer.pk)).data)


class PointsHistoryView(generics.ListAPIView):
    serializer_class = PointsEntrySerializer
    pagination_class = PointsHistoryPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no customer
            return PointsEntry.objects.none()
        customer = customer_get(external_id=self.kwargs["external_id"])
        return points_history(customer.pk)

    @extend_schema(
        summary="A customer's points entries, newest first",
        responses={200: PointsEntrySerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


INSUFFICIENT = OpenApiResponse(
    ErrorSerializer,
    description="insufficient_points (the balance is lower; errors name `points`), "
    "idempotency_key_reused (the key was used for another change), "
    "or idempotency_request_in_progress",
)


class _PointsChangeView(APIView):
    service: staticmethod

    def _change(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        data = parse(PointsChangeIn, request.data)
        key = request.headers.get(IDEMPOTENCY_HEADER) or ""
        try:
            change = self.service(
                customer=customer,
                points=data.points,
                reason=data.reason,
                source="api",
                idempotency_key=f"api:{key}" if key else "",
            )
        except InsufficientPoints as exc:
            raise ApiError(
                str(exc),
                code="insufficient_points",
                status_code=status.HTTP_409_CONFLICT,
                errors=[
                    {
                        "field": "points",
                        "message": f"exceeds the balance of {exc.balance} points",
                    }
                ],
            ) from None
        except KeyReused as exc:
            raise ApiError(
                str(exc),
                code="idempotency_key_reused",
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                errors=[{"field": IDEMPOTENCY_HEADER, "message": "used for another change"}],
            ) from None
        body = {"entry": change.entry, "balance": points_summary(customer.pk)}
        return Response(
            PointsChangeSerializer(body).data,
            status=status.HTTP_201_CREATED if change.created else status.HTTP_200_OK,
        )


def _change_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description + " Send an Idempotency-Key: the same key never changes the "
        "balance twice, even after the 24-hour replay window (the ledger keeps the key).",
        request=PointsChangeIn,
        responses={
            201: PointsChangeSerializer,
            200: PointsChangeSerializer,
            409: INSUFFICIENT,
            **error_responses(*WRITE_ERRORS),
        },
    )


class PointsEarnView(_PointsChangeView):
    service = staticmethod(points_earn)

    @_change_schema(
        "Add points to a customer",
        "A new earning batch that expires after the configured lifetime.",
    )
    @idempotent
    def post(self, request, external_id: str):
        return self._change(request, external_id)


class PointsSpendView(_PointsChangeView):
    service = staticmethod(points_spend)

    @_change_schema(
        "Spend a customer's points",
        "Drawn from the soonest-expiring batches first; more than the balance is 409 "
        "insufficient_points and nothing changes.",
    )
    @idempotent
    def post(self, request, external_id: str):
        return self._change(request, external_id)
