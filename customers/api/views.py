"""API v1 for customers, events and orders. Views validate, call one service, serialise."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import UpdatedAtCursorPagination, page_size
from api.schema import error_responses, links_to
from customers.api import schemas
from customers.api.filters import CustomerFilter
from customers.api.serializers import (
    BatchResultSerializer,
    ConsentSerializer,
    CustomerSerializer,
    TimelinePageSerializer,
)
from customers.models import Channel
from customers.selectors import consent_list, customer_export_data, customer_get, customer_list
from customers.services.consents import consent_set
from customers.services.customers import customer_create, customer_update, customer_upsert_batch
from customers.services.events import event_ingest_batch
from customers.services.gdpr import customer_erase
from customers.services.orders import order_upsert_batch
from customers.timeline import MAX_PAGE_SIZE as TIMELINE_MAX_PAGE_SIZE
from customers.timeline import InvalidCursor, customer_timeline, timeline_kinds

READ_ERRORS = (401, 404, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)


class CustomerListCreateView(generics.ListAPIView):
    openapi_links = {
        "POST": {
            201: links_to(
                [
                    "customers_retrieve",
                    "customers_partial_update",
                    "customers_destroy",
                    "customers_export_retrieve",
                    "customers_timeline_retrieve",
                    "customers_consents_list",
                    "customers_push_subscriptions_create",
                ],
                parameter="external_id",
                field="external_id",
            )
        }
    }
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    pagination_class = UpdatedAtCursorPagination

    def get_queryset(self):
        return customer_list()

    @extend_schema(
        summary="List customers",
        responses={200: CustomerSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a customer",
        request=schemas.CustomerIn,
        responses={201: CustomerSerializer, **error_responses(*WRITE_ERRORS, 409, 422)},
    )
    @idempotent
    def post(self, request):
        data = schemas.parse(schemas.CustomerIn, request.data)
        customer = customer_create(data=data, source=_source(request))
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailView(APIView):
    required_scopes = {"DELETE": ApiScope.GDPR_ERASE}

    @extend_schema(
        summary="Get a customer",
        responses={200: CustomerSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, external_id: str):
        return Response(CustomerSerializer(customer_get(external_id=external_id)).data)

    @extend_schema(
        summary="Update a customer",
        description="Only the fields sent change; null clears a field; attributes merge.",
        request=schemas.CustomerPatch,
        responses={200: CustomerSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        data = schemas.parse(schemas.CustomerPatch, request.data)
        customer = customer_update(customer=customer, data=data, source=_source(request))
        return Response(CustomerSerializer(customer_get(external_id=customer.external_id)).data)

    @extend_schema(
        summary="Erase a customer (GDPR)",
        description="Wipes personal data, addresses, events and notes; keeps anonymised orders "
        "and the consent log. The external id is released.",
        responses={204: None, **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request, external_id: str):
        customer_erase(customer=customer_get(external_id=external_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerExportView(APIView):
    @extend_schema(
        summary="Export everything held about a customer (GDPR)",
        responses={200: OpenApiTypes.OBJECT, **error_responses(*READ_ERRORS)},
    )
    def get(self, request, external_id: str):
        return Response(customer_export_data(customer=customer_get(external_id=external_id)))


class CustomerTimelineView(APIView):
    @extend_schema(
        summary="A customer's unified timeline, newest first",
        parameters=[
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1},
                description=f"Default 50; more than {TIMELINE_MAX_PAGE_SIZE} gives "
                f"{TIMELINE_MAX_PAGE_SIZE}.",
            ),
            OpenApiParameter("kind", str, many=True, description="only these kinds of entry"),
        ],
        responses={200: TimelinePageSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        kinds = request.query_params.getlist("kind") or None
        unknown = set(kinds or []) - set(timeline_kinds())
        if unknown:
            raise ValidationError({"kind": [f"unknown kind(s): {', '.join(sorted(unknown))}"]})
        limit = page_size(
            request.query_params.get("limit"), default=50, maximum=TIMELINE_MAX_PAGE_SIZE
        )
        try:
            page = customer_timeline(
                customer.pk, cursor=request.query_params.get("cursor"), limit=limit, kinds=kinds
            )
        except InvalidCursor as exc:
            raise ValidationError({"cursor": [str(exc)]}) from None
        return Response(TimelinePageSerializer(page).data)


class CustomerConsentListView(APIView):
    @extend_schema(
        summary="A customer's consents",
        responses={200: ConsentSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        return Response(ConsentSerializer(consent_list(customer=customer), many=True).data)


class CustomerConsentView(APIView):
    @extend_schema(
        summary="Set a customer's consent on one channel",
        request=schemas.ConsentPut,
        responses={200: ConsentSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def put(self, request, external_id: str, channel: str):
        customer = customer_get(external_id=external_id)
        if channel not in Channel.values:
            raise ValidationError({"channel": [f"must be one of {', '.join(Channel.values)}"]})
        data = schemas.parse(schemas.ConsentPut, request.data)
        consent = consent_set(
            customer=customer,
            channel=channel,
            status=data.status,
            source=data.source or _source(request),
        )
        return Response(ConsentSerializer(consent).data)


class _BatchView(APIView):
    schema_class: type
    service: staticmethod

    @idempotent
    def post(self, request):
        batch = schemas.parse_batch(self.schema_class, request.data)
        result = self.service(items=batch.items, source=_source(request))
        return Response(BatchResultSerializer(result).data)


def _batch_schema(summary: str, request):
    return extend_schema(
        summary=summary,
        description="Up to 1,000 items, validated all before any is written: one bad item gives "
        "400 with every problem as {index, field, message} and nothing is stored. Replaying a "
        "batch changes nothing (see `unchanged`).",
        request=request,
        responses={200: BatchResultSerializer, **error_responses(*WRITE_ERRORS, 409, 422)},
    )


@extend_schema_view(
    post=_batch_schema("Upsert customers in bulk, by external_id", schemas.CustomerBatchIn)
)
class CustomerBatchView(_BatchView):
    schema_class = schemas.CustomerBatchIn
    service = staticmethod(customer_upsert_batch)


@extend_schema_view(
    post=_batch_schema("Record events in bulk, deduplicated by event_id", schemas.EventBatchIn)
)
class EventBatchView(_BatchView):
    schema_class = schemas.EventBatchIn
    service = staticmethod(event_ingest_batch)


@extend_schema_view(
    post=_batch_schema(
        "Upsert orders with their items in bulk, by external_id", schemas.OrderBatchIn
    )
)
class OrderBatchView(_BatchView):
    schema_class = schemas.OrderBatchIn
    service = staticmethod(order_upsert_batch)


def _source(request) -> str:
    return f"api:{request.auth.name}"[:50]
