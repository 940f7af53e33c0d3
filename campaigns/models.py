"""The campaigns app's models live in one subpackage per concept; Django finds them here."""

from campaigns.recommendations.models import (  # noqa: F401
    CategoryPick,
    CoPurchasePair,
    Recommendation,
    RecommendationKind,
    RecommendationRun,
)
