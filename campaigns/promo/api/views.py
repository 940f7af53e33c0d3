"""API v1 for promo pools and codes: pools (list, create, get, change, archive), a pool's codes,
generate, import, reserve for a customer, and a customer's codes."""

from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from pydantic import Field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.idempotency import idempotent
from api.pagination import SignedCursorPagination
from api.types import UtcDatetime, text
from campaigns.promo import services
from campaigns.promo.models import PromoCode, PromoPool
from campaigns.promo.selectors import STATUSES, promo_pools_stock
from customers.api import schemas
from customers.api.views import WRITE_ERRORS, error_responses
from customers.models import Customer

MAX_IMPORT = 100_000


# --- Input --------------------------------------------------------------------------------------
class PoolIn(schemas.Strict):
    name: text(min_length=1, max_length=200, strip=True)
    kind: Literal["unique", "shared"] = "unique"
    code_length: int = Field(default=8, ge=4, le=32)
    alphabet: text(max_length=64) = ""
    prefix: text(max_length=20) = ""
    per_customer_limit: int = Field(default=1, ge=1, le=1000)
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    discount_description: text(max_length=300) = ""
    low_stock_threshold: int = Field(default=100, ge=0, le=1_000_000)


class PoolPatch(schemas.Strict):
    name: text(min_length=1, max_length=200, strip=True) = None  # type: ignore[valid-type]
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    discount_description: text(max_length=300) = None  # type: ignore[valid-type]
    low_stock_threshold: int = Field(default=None, ge=0, le=1_000_000)
    per_customer_limit: int = Field(default=None, ge=1, le=1000)


class GenerateIn(schemas.Strict):
    count: int = Field(ge=1, le=services.GENERATE_MAX)


class ImportIn(schemas.Strict):
    codes: list[text(max_length=200)] = Field(min_length=1, max_length=MAX_IMPORT)


class ReserveIn(schemas.Strict):
    customer_external_id: schemas.ExternalId


# --- Output -------------------------------------------------------------------------------------
class StockSerializer(serializers.Serializer):
    available = serializers.IntegerField()
    reserved = serializers.IntegerField()
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    expired = serializers.IntegerField()


class PoolSerializer(serializers.ModelSerializer):
    stock = serializers.SerializerMethodField()
    low_stock = serializers.SerializerMethodField()

    class Meta:
        model = PromoPool
        fields = ["id", "name", "kind", "code_length", "alphabet", "prefix", "per_customer_limit",
                  "valid_from", "valid_until", "discount_description", "low_stock_threshold",
                  "low_stock", "stock", "created_at", "archived_at"]  # fmt: skip

    def get_low_stock(self, pool) -> bool:
        return pool.low_stock_alerted_at is not None

    @extend_schema_field(StockSerializer)
    def get_stock(self, pool) -> dict:
        stocks = self.context.get("stock")
        if stocks is None:
            stocks = promo_pools_stock([pool.pk])
        return stocks.get(pool.pk, dict.fromkeys(STATUSES, 0))


class CodeSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(
        source="customer.external_id", allow_null=True, default=None
    )
    message_id = serializers.IntegerField(allow_null=True)
    redeemed_order_external_id = serializers.CharField(
        source="redeemed_order.external_id", allow_null=True, default=None
    )

    class Meta:
        model = PromoCode
        fields = ["id", "pool", "code", "status", "customer_external_id", "message_id",
                  "reserved_at", "issued_at", "redeemed_order_external_id", "redeemed_at",
                  "created_at"]  # fmt: skip


class GenerateOutSerializer(serializers.Serializer):
    created = serializers.IntegerField()


class RefusedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    code = serializers.CharField()
    reason = serializers.CharField()


class ImportOutSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    refused = RefusedRowSerializer(many=True)


class ByIdCursor(SignedCursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def _pool(pool_id: int) -> PromoPool:
    return get_object_or_404(PromoPool, pk=pool_id)


def _refused(error: services.PromoError, field: str = "body", status_code: int = 409):
    return ApiError(
        str(error),
        code=error.code,
        status_code=status_code,
        errors=[{"field": field, "code": error.code, "message": str(error)}],
    )


def _pool_errors(error) -> ValidationFailed:
    return ValidationFailed(
        [
            {"field": field, "code": "invalid", "message": " ".join(messages)}
            for field, messages in error.message_dict.items()
        ]
    )


# --- Views --------------------------------------------------------------------------------------
class PoolListCreateView(generics.ListAPIView):
    serializer_class = PoolSerializer
    pagination_class = ByIdCursor
    queryset = PromoPool.objects.all()

    def get_serializer(self, *args, **kwargs):
        pools = args[0] if args else []
        kwargs.setdefault("context", self.get_serializer_context())
        kwargs["context"]["stock"] = promo_pools_stock([p.pk for p in pools])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(
        summary="List promo code pools with their stock",
        responses={200: PoolSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a promo code pool",
        request=PoolIn,
        responses={201: PoolSerializer, **error_responses(*WRITE_ERRORS, 409, 422)},
    )
    @idempotent
    def post(self, request):
        data = schemas.parse(PoolIn, request.data)
        try:
            pool = services.promo_pool_create(**data.model_dump())
        except ValidationError as error:
            raise _pool_errors(error) from error
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailView(APIView):
    @extend_schema(
        summary="Get a promo code pool",
        responses={200: PoolSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, pool_id: int):
        return Response(PoolSerializer(_pool(pool_id)).data)

    @extend_schema(
        summary="Change a pool's name, validity, description, threshold or limit",
        request=PoolPatch,
        responses={200: PoolSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, pool_id: int):
        pool = _pool(pool_id)
        data = schemas.parse(PoolPatch, request.data)
        fields = {name: getattr(data, name) for name in data.model_fields_set}
        for name in ("name", "discount_description", "low_stock_threshold", "per_customer_limit"):
            if name in fields and fields[name] is None:
                raise ValidationFailed([{"field": name, "message": "must not be null"}])
        try:
            pool = services.promo_pool_update(pool, **fields)
        except ValidationError as error:
            raise _pool_errors(error) from error
        return Response(PoolSerializer(pool).data)


class PoolArchiveView(APIView):
    @extend_schema(
        summary="Archive a pool: no more reservations; issued codes still redeem",
        request=None,
        responses={200: PoolSerializer, **error_responses(401, 403, 404, 429)},
    )
    def post(self, request, pool_id: int):
        return Response(PoolSerializer(services.promo_pool_archive(_pool(pool_id))).data)


class PoolCodesView(generics.ListAPIView):
    serializer_class = CodeSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PromoCode.objects.none()
        codes = PromoCode.objects.filter(pool=_pool(self.kwargs["pool_id"])).select_related(
            "customer", "redeemed_order"
        )
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in STATUSES:
                raise ValidationFailed(
                    [{"field": "status", "message": f"must be one of {', '.join(STATUSES)}"}]
                )
            codes = codes.filter(status=wanted)
        return codes

    @extend_schema(
        summary="A pool's codes, optionally of one status",
        parameters=[OpenApiParameter("status", str, enum=STATUSES, required=False)],
        responses={200: CodeSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PoolGenerateView(APIView):
    @extend_schema(
        summary="Generate codes from the pool's pattern",
        request=GenerateIn,
        responses={201: GenerateOutSerializer, **error_responses(*WRITE_ERRORS, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pool_id: int):
        pool = _pool(pool_id)
        data = schemas.parse(GenerateIn, request.data)
        try:
            with transaction.atomic():
                created = services.promo_codes_generate(pool, data.count)
        except services.PromoError as error:
            raise _refused(error, "count", 422) from error
        services.promo_low_stock_check([pool])
        return Response({"created": created}, status=status.HTTP_201_CREATED)


class PoolImportView(APIView):
    @extend_schema(
        summary="Import codes (deduplicated; refused rows are listed with a reason)",
        request=ImportIn,
        responses={200: ImportOutSerializer, **error_responses(*WRITE_ERRORS, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pool_id: int):
        pool = _pool(pool_id)
        data = schemas.parse(ImportIn, request.data)
        report = services.promo_codes_import(pool, data.codes)
        services.promo_low_stock_check([pool])
        return Response(
            {"created": report.created, "duplicates": report.duplicates, "refused": report.refused}
        )


class PoolReserveView(APIView):
    @extend_schema(
        summary="Reserve a code for a customer (the same code again for the same customer)",
        request=ReserveIn,
        responses={200: CodeSerializer, **error_responses(*WRITE_ERRORS, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pool_id: int):
        pool = _pool(pool_id)
        data = schemas.parse(ReserveIn, request.data)
        customer = Customer.objects.filter(external_id=data.customer_external_id).first()
        if customer is None:
            raise ValidationFailed(
                [
                    {
                        "field": "customer_external_id",
                        "code": "not_found",
                        "message": "no such customer",
                    }
                ]
            )
        try:
            code = services.promo_code_reserve(pool, customer)
        except services.PromoError as error:
            raise _refused(error) from error
        return Response(CodeSerializer(code).data)


class CustomerCodesView(generics.ListAPIView):
    serializer_class = CodeSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PromoCode.objects.none()
        customer = get_object_or_404(Customer, external_id=self.kwargs["external_id"])
        return PromoCode.objects.filter(customer=customer).select_related(
            "customer", "redeemed_order"
        )

    @extend_schema(
        summary="A customer's promo codes",
        responses={200: CodeSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
