from campaigns.loyalty.models import LoyaltySettings, PointsAllocation, PointsBalance, PointsEntry  # noqa: F401
