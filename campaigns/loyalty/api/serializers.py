from rest_framework import serializers


class PointsBalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="The sum of every entry; never negative.")
    next_expiry_at = serializers.DateTimeField(
        allow_null=True, help_text="When the soonest batch that still holds points expires."
    )
    next_expiry_points = serializers.IntegerField(help_text="Points that expire then.")


class PointsEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["earn", "spend", "expire", "reverse", "adjust"])
    points = serializers.IntegerField(help_text="Signed: positive adds, negative takes away.")
    reason = serializers.CharField()
    source = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Earning batches only.")
    shortfall = serializers.IntegerField(
        help_text="For a reversal: points already spent that could not be taken back."
    )
    created_at = serializers.DateTimeField()


class PointsChangeSerializer(serializers.Serializer):
    entry = PointsEntrySerializer()
    balance = PointsBalanceSerializer()
