"""API v1: a customer's picks, and refreshing them now."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import error_responses
from campaigns.recommendations.models import RecommendationKind
from campaigns.recommendations.selectors import (
    recommendations_computed_at,
    recommendations_for_customers,
)
from campaigns.recommendations.services import TOP_N, recommendations_refresh
from customers.selectors import customer_get


class PickSerializer(serializers.Serializer):
    rank = serializers.IntegerField(min_value=1, help_text="1 is the best.")
    score = serializers.FloatField(help_text="Only comparable within one kind and customer.")
    sku = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(help_text="Empty when the catalogue has no page for it.")
    image_url = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    category = serializers.CharField()


class PicksByKindSerializer(serializers.Serializer):
    bought_together = PickSerializer(many=True, required=False)
    popular = PickSerializer(many=True, required=False)
    viewed = PickSerializer(many=True, required=False)
    new = PickSerializer(many=True, required=False)


class RecommendationsSerializer(serializers.Serializer):
    customer_external_id = serializers.CharField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="The latest refresh that covered this customer."
    )
    recommendations = PicksByKindSerializer(
        help_text=f"Up to {TOP_N} picks per kind, best first; every asked kind is present."
    )


def _body(customer, kinds: list[str]) -> dict:
    picks = recommendations_for_customers([customer.pk], kinds=kinds)[customer.pk]
    return {
        "customer_external_id": customer.external_id,
        "computed_at": recommendations_computed_at(customer),
        "recommendations": picks,
    }


class CustomerRecommendationsView(APIView):
    @extend_schema(
        summary="A customer's product picks: bought together, popular, viewed, new",
        description=(
            "Computed nightly for everyone and on demand (POST …/refresh). Each kind leaves out "
            f"what the customer already bought; at most {TOP_N} per kind, so no paging."
        ),
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                enum=RecommendationKind.values,
                description="Only this kind (default: all four).",
            )
        ],
        responses={200: RecommendationsSerializer, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        kind = request.query_params.get("kind")
        if kind is not None and kind not in RecommendationKind.values:
            raise ValidationError({"kind": [f"unknown kind: {kind[:50]}"]})
        kinds = [kind] if kind else list(RecommendationKind.values)
        return Response(RecommendationsSerializer(_body(customer, kinds)).data)


class CustomerRecommendationsRefreshView(APIView):
    @extend_schema(
        summary="Recompute a customer's picks now",
        description=(
            "Recomputes this customer only, from the shared co-purchase and category tables of the "
            "last full refresh, and returns the new picks. Safe to repeat."
        ),
        request=None,
        responses={200: RecommendationsSerializer, **error_responses(401, 403, 404, 429)},
    )
    def post(self, request, external_id: str):
        customer = customer_get(external_id=external_id)
        recommendations_refresh(customer=customer)
        return Response(
            RecommendationsSerializer(_body(customer, list(RecommendationKind.values))).data
        )
