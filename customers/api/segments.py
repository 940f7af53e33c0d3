"""API v1 for segments: CRUD, preview, members (list, CSV, static add/remove), refresh."""

from typing import Annotated, Any, Literal

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from pydantic import ConfigDict, Field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.csv_export import csv_lines
from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import SignedCursorPagination
from api.schema import links_to
from api.types import CHECK_JSON, DocumentedAs, Text, text
from customers.api import schemas
from customers.api.views import WRITE_ERRORS, error_responses
from customers.models import Segment, SegmentMembership
from customers.segments.rules.schema import RULE_REFERENCE, SegmentRule
from customers.services.segments import (
    segment_create,
    segment_delete,
    segment_members_add,
    segment_members_remove,
    segment_preview_queryset,
    segment_refresh_enqueue,
    segment_update,
)

MAX_MEMBERS_PER_REQUEST = 10_000
MAX_PREVIEW_SAMPLE = 50
CSV_CHUNK_SIZE = 2000
CSV_CUSTOMER_FIELDS = ("external_id", "email", "phone", "first_name", "last_name")


# --- Input --------------------------------------------------------------------------------------
SegmentName = text(min_length=1, max_length=150, strip=True)


class SegmentIn(schemas.Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "static"}}, "required": ["kind"]},
            "then": {"properties": {"rules": {"type": "null"}}},
            "else": {"required": ["rules"], "properties": {"rules": {"not": {"type": "null"}}}},
        }
    )

    name: SegmentName
    description: Text = ""
    kind: Literal["dynamic", "static"] = "dynamic"
    rules: Annotated[Any, CHECK_JSON, DocumentedAs(SegmentRule, nullable=True)] = Field(
        default=None, description="The rule (docs/segments.md); dynamic segments only."
    )
    external_ids: list[schemas.ExternalId] | None = Field(
        default=None, max_length=MAX_MEMBERS_PER_REQUEST, description="Members of a static segment."
    )


class SegmentPatch(schemas.Strict):
    # Fields left out are not changed; none of them can be null (no `| None`: pydantic does not
    # validate the default, so leaving one out is fine while sending null is a 400).
    name: SegmentName = None  # type: ignore[assignment]
    description: Text = None  # type: ignore[assignment]
    rules: Annotated[Any, CHECK_JSON, DocumentedAs(SegmentRule)] = None


class PreviewIn(schemas.Strict):
    rules: Annotated[Any, CHECK_JSON, DocumentedAs(SegmentRule)]
    sample_size: Annotated[int, Field(ge=0, le=MAX_PREVIEW_SAMPLE)] = 10


class MembersIn(schemas.Strict):
    external_ids: list[schemas.ExternalId] = Field(min_length=1, max_length=MAX_MEMBERS_PER_REQUEST)


# --- Output -------------------------------------------------------------------------------------
@extend_schema_field(RULE_REFERENCE)
class RulesField(serializers.JSONField):
    pass


class SegmentSerializer(serializers.ModelSerializer):
    rules = RulesField(allow_null=True, help_text="The rule, for dynamic segments.")

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "kind", "rules", "member_count", "refreshed_at",
                  "created_at", "updated_at"]  # fmt: skip


class MemberSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(source="customer.external_id")
    email = serializers.CharField(source="customer.email")
    phone = serializers.CharField(source="customer.phone")
    first_name = serializers.CharField(source="customer.first_name")
    last_name = serializers.CharField(source="customer.last_name")

    class Meta:
        model = SegmentMembership
        fields = ["external_id", "email", "phone", "first_name", "last_name", "joined_at"]


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = serializers.ListField(child=serializers.DictField())


class RefreshQueuedSerializer(serializers.Serializer):
    status = serializers.CharField()


class ByIdCursor(SignedCursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def _segment(segment_id: int) -> Segment:
    return get_object_or_404(Segment, pk=segment_id)


# --- Views --------------------------------------------------------------------------------------
class SegmentListCreateView(generics.ListAPIView):
    openapi_links = {
        "POST": {
            201: links_to(
                [
                    "segments_retrieve",
                    "segments_partial_update",
                    "segments_destroy",
                    "segments_members_list",
                    "segments_members_create",
                    "segments_members_destroy",
                    "segments_refresh_create",
                ],
                parameter="segment_id",
                field="id",
            )
        }
    }
    serializer_class = SegmentSerializer
    pagination_class = ByIdCursor
    queryset = Segment.objects.all()

    @extend_schema(
        summary="List segments",
        responses={200: SegmentSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a segment",
        description="A dynamic segment is filled by a background refresh right after it is created.",
        request=SegmentIn,
        responses={201: SegmentSerializer, **error_responses(*WRITE_ERRORS, 409, 422)},
    )
    @idempotent
    def post(self, request):
        data = schemas.parse(SegmentIn, request.data)
        segment = segment_create(
            name=data.name,
            kind=data.kind,
            rules=data.rules,
            description=data.description,
            external_ids=data.external_ids,
        )
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailView(APIView):
    @extend_schema(
        summary="Get a segment",
        responses={200: SegmentSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, segment_id: int):
        return Response(SegmentSerializer(_segment(segment_id)).data)

    @extend_schema(
        summary="Change a segment's name, description or rules",
        request=SegmentPatch,
        responses={200: SegmentSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, segment_id: int):
        segment = _segment(segment_id)
        data = schemas.parse(SegmentPatch, request.data)
        fields = {name: getattr(data, name) for name in data.model_fields_set}
        return Response(SegmentSerializer(segment_update(segment=segment, fields=fields)).data)

    @extend_schema(
        summary="Delete a segment",
        responses={204: None, **error_responses(401, 403, 404, 409, 429)},
    )
    def delete(self, request, segment_id: int):
        segment_delete(segment=_segment(segment_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentPreviewView(APIView):
    required_scopes = {"POST": ApiScope.READ}  # a POST only for the rule's size; nothing is saved

    @extend_schema(
        summary="Count the customers a rule selects, with a sample; nothing is saved",
        request=PreviewIn,
        responses={200: PreviewSerializer, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        data = schemas.parse(PreviewIn, request.data)
        customers = segment_preview_queryset(rules=data.rules)
        sample = customers.order_by("pk")[: data.sample_size].values(
            "external_id", "email", "phone", "first_name", "last_name"
        )
        return Response({"count": customers.count(), "sample": list(sample)})


class SegmentMembersView(generics.ListAPIView):
    serializer_class = MemberSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return SegmentMembership.objects.none()
        return SegmentMembership.objects.filter(
            segment=_segment(self.kwargs["segment_id"])
        ).select_related("customer")

    @extend_schema(
        summary="A segment's members",
        responses={200: MemberSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add customers to a static segment",
        request=MembersIn,
        responses={200: SegmentSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, segment_id: int):
        segment = _segment(segment_id)
        data = schemas.parse(MembersIn, request.data)
        segment_members_add(segment=segment, external_ids=data.external_ids)
        return Response(SegmentSerializer(_segment(segment_id)).data)

    @extend_schema(
        summary="Remove customers from a static segment",
        request=MembersIn,
        responses={200: SegmentSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def delete(self, request, segment_id: int):
        segment = _segment(segment_id)
        data = schemas.parse(MembersIn, request.data)
        segment_members_remove(segment=segment, external_ids=data.external_ids)
        return Response(SegmentSerializer(_segment(segment_id)).data)


class SegmentMembersCsvView(APIView):
    @extend_schema(
        summary="A segment's members as CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR, **error_responses(401, 404, 429)},
    )
    def get(self, request, segment_id: int):
        segment = _segment(segment_id)
        rows = (
            SegmentMembership.objects.filter(segment=segment)
            .order_by("pk")
            .values_list(*(f"customer__{name}" for name in CSV_CUSTOMER_FIELDS), "joined_at")
            .iterator(chunk_size=CSV_CHUNK_SIZE)
        )
        header = [*CSV_CUSTOMER_FIELDS, "joined_at"]
        lines = csv_lines(_with_header(header, rows))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
        return response


def _with_header(header, rows):
    yield header
    for *customer_fields, joined_at in rows:
        yield [*customer_fields, joined_at.isoformat()]


class SegmentRefreshView(APIView):
    @extend_schema(
        summary="Refresh a dynamic segment now (in the background)",
        request=None,
        responses={202: RefreshQueuedSerializer, **error_responses(401, 403, 404, 429)},
    )
    def post(self, request, segment_id: int):
        segment_refresh_enqueue(segment=_segment(segment_id))
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
