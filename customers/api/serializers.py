"""What the API returns. (What it accepts is validated in schemas.py.)"""

from rest_framework import serializers

from customers.models import ChannelIdentity, Consent, Customer, CustomerValue, RfmScore


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelIdentity
        fields = ["channel", "address", "created_at"]


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["channel", "status", "source", "updated_at"]


class RfmScoreSerializer(serializers.ModelSerializer):
    score = serializers.CharField(read_only=True, help_text="r, f and m digits, e.g. '545'.")

    class Meta:
        model = RfmScore
        fields = [
            "recency_days",
            "frequency",
            "monetary",
            "r",
            "f",
            "m",
            "score",
            "segment",
            "as_of",
            "computed_at",
        ]


class CustomerValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerValue
        fields = [
            "historic_revenue",
            "orders",
            "p_alive",
            "expected_purchases_12m",
            "expected_spend",
            "clv_12m",
            "scored_at",
        ]


class SegmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="segment_id")
    name = serializers.CharField(source="segment.name")
    joined_at = serializers.DateTimeField()


class CustomerSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    consents = ConsentSerializer(many=True, read_only=True)
    rfm = RfmScoreSerializer(
        read_only=True,
        allow_null=True,
        help_text="Latest RFM scores (see docs/rfm.md); null for customers without a counted order.",
    )
    value = CustomerValueSerializer(
        read_only=True,
        allow_null=True,
        help_text="Lifetime value: revenue to date and the nightly BG/NBD + Gamma-Gamma prediction "
        "(see docs/analytics.md); null for customers without a completed order or not scored yet.",
    )
    segments = SegmentRefSerializer(
        many=True, read_only=True, source="segment_memberships", help_text="Segments they are in."
    )

    class Meta:
        model = Customer
        fields = [
            "external_id",
            "email",
            "phone",
            "first_name",
            "last_name",
            "locale",
            "timezone",
            "birth_date",
            "lifecycle_stage",
            "attributes",
            "identities",
            "consents",
            "rfm",
            "value",
            "segments",
            "created_at",
            "updated_at",
        ]


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    customers_created = serializers.ListField(
        child=serializers.CharField(),
        help_text="External ids of customers that did not exist and were created for this batch.",
    )


class TimelineEntrySerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    data = serializers.DictField()


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True, source="entries")
    next_cursor = serializers.CharField(allow_null=True)
