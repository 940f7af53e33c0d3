"""API v1: a customer's push subscriptions (web push from browsers, FCM tokens from apps).

`POST /api/v1/customers/{external_id}/push-subscriptions` stores what the browser's
`PushManager.subscribe()` returned (`{"kind": "web", "endpoint", "keys": {"p256dh", "auth"}}`)
or an app's FCM registration token (`{"kind": "fcm", "token"}`); `DELETE` with the endpoint or
token (as JSON body or query parameter) removes it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal
from urllib.parse import urlparse

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import ConfigDict, field_validator
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError, ValidationFailed
from api.types import text
from channels.models import PushSubscription
from channels.services.push import push_subscription_add, push_subscription_remove
from customers.api import schemas
from customers.api.views import WRITE_ERRORS, error_responses
from customers.selectors import customer_get

Address = text(min_length=1, max_length=512)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
ENDPOINT_PATTERN = r"^(https://[^/?#]|http://(localhost|127\.0\.0\.1|\[::1\])([:/?#]|$))"


def _b64url_bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("must be base64url") from None


class PushKeysIn(schemas.Strict):
    p256dh: text(min_length=1, max_length=200)
    auth: text(min_length=1, max_length=100)

    @field_validator("p256dh")
    @classmethod
    def _p256_point(cls, value: str) -> str:
        raw = _b64url_bytes(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("must be the browser's P-256 public key (65 bytes, base64url)")
        return value

    @field_validator("auth")
    @classmethod
    def _auth_secret(cls, value: str) -> str:
        if len(_b64url_bytes(value)) != 16:
            raise ValueError("must be the browser's 16-byte auth secret, base64url")
        return value


class PushSubscriptionIn(schemas.Strict):
    """`endpoint` and `keys` for web push; `token` for FCM."""

    # What the view checks per kind, so that the schema says it too.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "web"}}},
            "then": {
                "required": ["endpoint", "keys"],
                "properties": {
                    "endpoint": {"type": "string", "pattern": ENDPOINT_PATTERN},
                    "keys": {"type": "object"},
                    "token": {"type": "null"},
                },
            },
            "else": {
                "required": ["token"],
                "properties": {
                    "token": {"type": "string"},
                    "endpoint": {"type": "null"},
                    "keys": {"type": "null"},
                },
            },
        }
    )

    kind: Literal["web", "fcm"]
    endpoint: Address | None = None
    keys: PushKeysIn | None = None
    token: Address | None = None

    @field_validator("endpoint")
    @classmethod
    def _push_service_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        url = urlparse(value)
        # Browsers only hand out https endpoints; plain http only for a push service on this host.
        secure = url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK_HOSTS)
        if not (secure and url.netloc):
            raise ValueError("must be the https URL the browser's push subscription gave")
        return value


class PushSubscriptionDelete(schemas.Strict):
    endpoint: Address | None = None
    token: Address | None = None


class PushSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PushSubscription.Kind.choices)
    endpoint = serializers.CharField(allow_null=True, help_text="Web push only.")
    token = serializers.CharField(allow_null=True, help_text="FCM only.")
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: PushSubscription) -> dict:
        web = instance.kind == PushSubscription.Kind.WEB
        return {
            "id": instance.pk,
            "kind": instance.kind,
            "endpoint": instance.identity.address if web else None,
            "token": None if web else instance.identity.address,
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
        }


def _required(field: str, kind: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": f"is required for kind '{kind}'"}])


def _unexpected(field: str, kind: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": f"is not used with kind '{kind}'"}])


class PushSubscriptionView(APIView):
    @extend_schema(
        summary="Subscribe a customer's browser or app to push",
        description="Web push: send what `PushManager.subscribe()` returned, with "
        '`kind: "web"`. Mobile: `{"kind": "fcm", "token"}`. 201 when the subscription is '
        "new to this customer (an endpoint another customer had moves to this one: the browser "
        "now belongs to whoever subscribed last), 200 when it was already theirs. Consent for "
        "push is set separately (PUT …/consents/push).",
        request=PushSubscriptionIn,
        responses={
            200: PushSubscriptionSerializer,
            201: PushSubscriptionSerializer,
            **error_responses(*WRITE_ERRORS, 404),
        },
    )
    def post(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        data = schemas.parse(PushSubscriptionIn, request.data)
        if data.kind == "web":
            if data.endpoint is None:
                raise _required("endpoint", "web")
            if data.keys is None:
                raise _required("keys", "web")
            if data.token is not None:
                raise _unexpected("token", "web")
            result = push_subscription_add(
                customer=customer,
                kind=PushSubscription.Kind.WEB,
                address=data.endpoint,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
            )
        else:
            if data.token is None:
                raise _required("token", "fcm")
            for field in ("endpoint", "keys"):
                if getattr(data, field) is not None:
                    raise _unexpected(field, "fcm")
            result = push_subscription_add(
                customer=customer, kind=PushSubscription.Kind.FCM, address=data.token
            )
        return Response(
            PushSubscriptionSerializer(result.subscription).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Unsubscribe a customer's browser or app from push",
        description="Name the subscription by `endpoint` (web) or `token` (FCM), in a JSON body "
        "or as a query parameter.",
        parameters=[
            OpenApiParameter("endpoint", str, required=False),
            OpenApiParameter("token", str, required=False),
        ],
        request=PushSubscriptionDelete,
        responses={204: None, **error_responses(*WRITE_ERRORS, 404)},
    )
    def delete(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        body = request.data if isinstance(request.data, dict) and request.data else {}
        query = {
            k: request.query_params[k] for k in ("endpoint", "token") if k in request.query_params
        }
        data = schemas.parse(PushSubscriptionDelete, {**query, **body})
        address = data.endpoint or data.token
        if address is None:
            raise ValidationFailed(
                [{"field": "endpoint", "message": "give the endpoint (web) or the token (fcm)"}]
            )
        if not push_subscription_remove(customer=customer, address=address):
            raise ApiError(
                "This customer has no such push subscription.", code="not_found", status_code=404
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path(
        "customers/<str:external_id>/push-subscriptions",
        PushSubscriptionView.as_view(),
        name="customer-push-subscriptions",
    ),
]
