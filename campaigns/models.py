"""The campaigns app's models, one import line per subpackage."""

from campaigns.broadcasts.models import (  # noqa: F401
    Broadcast,
    BroadcastRecipient,
    BroadcastStats,
    BroadcastVariant,
)
from campaigns.journeys.models import (  # noqa: F401
    Enrollment,
    EnrollmentLog,
    Journey,
    JourneyVersion,
    StepStat,
)
from campaigns.journeys.trigger_map import TriggerMapSegment  # noqa: F401
from campaigns.loyalty.models import LoyaltySettings, PointsAllocation, PointsBalance, PointsEntry  # noqa: F401
from campaigns.message_templates.models import MessageTemplateUse, Template, TemplateVersion  # noqa: F401
from campaigns.planning.models import (  # noqa: F401
    CjmCell,
    CjmSolutionLink,
    CjmStage,
    CommunicationStrategy,
    CustomerJourneyMap,
    StrategyContent,
)
from campaigns.promo.models import PromoCode, PromoCodeStatus, PromoPool, PromoRedemption  # noqa: F401
from campaigns.recommendations.models import (  # noqa: F401
    CategoryPick,
    CoPurchasePair,
    Recommendation,
    RecommendationKind,
    RecommendationRun,
)
