"""API v1 for message templates: list, create, get, change (a new version), versions, render a
saved version for a customer, and preview unsaved variants for a customer. Nothing is sent."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.idempotency import idempotent
from api.models import ApiScope
from api.pagination import SignedCursorPagination
from api.schema import error_responses
from campaigns.message_templates.api import schemas as s
from campaigns.message_templates.models import Template, TemplateVersion
from campaigns.message_templates.rendering import (
    TemplateInvalid,
    TemplateMissingValue,
    render_compiled,
)
from campaigns.message_templates.services import (
    template_archive,
    template_create,
    template_render,
    template_update,
    variants_check,
)
from customers.api.schemas import parse
from customers.models import Customer

WRITE_ERRORS = (400, 401, 403, 413, 415, 429)


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


def invalid(exc: TemplateInvalid) -> ValidationFailed:
    errors = []
    for p in exc.problems:
        field = (
            ".".join(x for x in ("variants", p.channel, p.field) if x)
            if p.channel
            else (p.field or "variants")
        )
        message = f"line {p.line}: {p.message}" if p.line else p.message
        errors.append({"field": field, "message": message})
    return ValidationFailed(errors, "The template is not valid.")


def missing(exc: TemplateMissingValue) -> ApiError:
    return ApiError(
        f"{exc.variable} has no value for this customer and the template gives no default; "
        "a send would be suppressed.",
        code="missing_value",
        status_code=422,
        errors=[{"field": exc.variable, "message": "no value and no default"}],
    )


def _customer(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id, erased_at__isnull=True).first()
    if customer is None:
        raise ApiError(
            "No customer has this external_id.", code="customer_not_found", status_code=404
        )
    return customer


class TemplateListCreateView(generics.ListAPIView):
    serializer_class = s.TemplateSerializer
    pagination_class = ByIdCursor

    def get_queryset(self):
        qs = Template.objects.select_related("current_version__created_by")
        if self.request.query_params.get("archived") not in ("1", "true"):
            qs = qs.filter(archived_at__isnull=True)
        return qs

    @extend_schema(
        summary="List message templates",
        responses={200: s.TemplateSerializer, **error_responses(400, 401, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a message template (its version 1)",
        description="Every variant is parsed; an unknown variable or filter is a 400 naming the "
        "variant and the line.",
        request=s.TemplateIn,
        responses={201: s.TemplateSerializer, **error_responses(*WRITE_ERRORS, 409, 422)},
    )
    @idempotent
    def post(self, request):
        data = parse(s.TemplateIn, request.data)
        try:
            template = template_create(
                name=data.name,
                description=data.description,
                category=data.category,
                variants=data.variants.present(),
                extras=data.extras,
            )
        except TemplateInvalid as exc:
            raise invalid(exc) from None
        return Response(s.TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class TemplateDetailView(APIView):
    @extend_schema(
        summary="Get a message template and its newest version",
        responses={200: s.TemplateSerializer, **error_responses(401, 404, 429)},
    )
    def get(self, request, template_id: int):
        return Response(s.TemplateSerializer(get_object_or_404(Template, pk=template_id)).data)

    @extend_schema(
        summary="Change a template: new variants or extras make a new version",
        request=s.TemplatePatch,
        responses={200: s.TemplateSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def patch(self, request, template_id: int):
        template = get_object_or_404(Template, pk=template_id)
        data = parse(s.TemplatePatch, request.data)
        given = data.model_fields_set
        try:
            template_update(
                template,
                name=data.name if "name" in given else None,
                description=data.description if "description" in given else None,
                category=data.category if "category" in given else None,
                variants=data.variants.present() if "variants" in given else None,
                extras=data.extras if "extras" in given else None,
            )
        except TemplateInvalid as exc:
            raise invalid(exc) from None
        template.refresh_from_db()
        if "archived" in given and data.archived != (template.archived_at is not None):
            template_archive(template, archived=data.archived)
        return Response(s.TemplateSerializer(template).data)


class TemplateVersionListView(generics.ListAPIView):
    serializer_class = s.VersionSerializer
    pagination_class = VersionCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TemplateVersion.objects.none()
        template = get_object_or_404(Template, pk=self.kwargs["template_id"])
        return TemplateVersion.objects.filter(template=template).select_related("created_by")

    @extend_schema(
        summary="List a template's versions, newest first",
        responses={200: s.VersionSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _rendered(message) -> dict:
    return {
        "channel": message.channel,
        "version": None,
        "subject": message.subject,
        "body": message.body,
        "html": message.html,
        "payload": message.payload,
    }


class TemplateRenderView(APIView):
    required_scopes = {"POST": ApiScope.READ}  # renders only; nothing is saved or sent

    @extend_schema(
        summary="Render a saved version for a customer (nothing is sent)",
        request=s.RenderIn,
        responses={200: s.RenderedSerializer, **error_responses(*WRITE_ERRORS, 404, 422)},
    )
    def post(self, request, template_id: int):
        template = get_object_or_404(Template, pk=template_id)
        data = parse(s.RenderIn, request.data)
        versions = TemplateVersion.objects.filter(template=template)
        version = (
            versions.filter(number=data.version).first()
            if data.version
            else versions.order_by("-number").first()
        )
        if version is None:
            raise ApiError("No such version.", code="not_found", status_code=404)
        if data.channel not in version.variants:
            raise ValidationFailed(
                [{"field": "channel", "message": "this version has no variant for the channel"}]
            )
        customer = _customer(data.external_id)
        try:
            message = template_render(version, data.channel, customer, data.extra)
        except TemplateMissingValue as exc:
            raise missing(exc) from None
        return Response({**_rendered(message), "version": version.number})


class TemplatePreviewView(APIView):
    required_scopes = {"POST": ApiScope.READ}  # renders only; nothing is saved or sent

    @extend_schema(
        summary="Render unsaved variants for a customer (nothing is saved or sent)",
        request=s.PreviewIn,
        responses={200: s.RenderedSerializer, **error_responses(*WRITE_ERRORS, 404, 422)},
    )
    def post(self, request):
        data = parse(s.PreviewIn, request.data)
        try:
            variants = variants_check(data.variants.present(), data.extras)
        except TemplateInvalid as exc:
            raise invalid(exc) from None
        if data.channel not in variants:
            raise ValidationFailed([{"field": "channel", "message": "no variant for the channel"}])
        customer = _customer(data.external_id)
        from campaigns.message_templates.context import customer_contexts

        context = customer_contexts([customer], data.extra)[customer.pk]
        try:
            message = render_compiled(
                TemplateVersion(variants=variants, extras=data.extras), data.channel, context
            )
        except TemplateMissingValue as exc:
            raise missing(exc) from None
        return Response(_rendered(message))
