"""API v1 for RFM: the R×F matrix the segments page draws."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.views import error_responses
from customers.models import RfmSegment
from customers.selectors import rfm_matrix


class RfmCellSerializer(serializers.Serializer):
    r = serializers.IntegerField(min_value=1, max_value=5)
    f = serializers.IntegerField(min_value=1, max_value=5)
    segment = serializers.ChoiceField(choices=RfmSegment.choices, help_text="This cell's segment.")
    customers = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of all scored customers, 0 to 1.")
    avg_monetary = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="Null for an empty cell."
    )


class RfmSegmentShareSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=RfmSegment.choices)
    label = serializers.CharField()
    customers = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of all scored customers, 0 to 1.")
    avg_monetary = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="Null for an empty segment."
    )


class RfmMatrixSerializer(serializers.Serializer):
    customers = serializers.IntegerField(help_text="Customers with an RFM score.")
    as_of = serializers.DateField(allow_null=True, help_text="Null before the first computation.")
    computed_at = serializers.DateTimeField(allow_null=True)
    cells = RfmCellSerializer(many=True, help_text="All 25 cells, R 5→1, then F 1→5.")
    segments = RfmSegmentShareSerializer(many=True, help_text="All 11 segments, empty ones too.")


class RfmMatrixView(APIView):
    @extend_schema(
        summary="RFM matrix: customers, share and average monetary per R×F cell and segment",
        description="From the latest RFM computation (nightly, or `manage.py compute_rfm`).",
        responses={200: RfmMatrixSerializer, **error_responses(401, 429)},
    )
    def get(self, request):
        return Response(RfmMatrixSerializer(rfm_matrix()).data)
