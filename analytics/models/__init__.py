"""Analytics' models, one module per area; each area adds its import line here."""

from analytics.models import attribution  # noqa: F401  (its models; imported from their module)
from analytics.models.clv import ClvFit
from analytics.models.goals import Forecast, Goal, GoalStatus
from analytics.models.rollups import (
    AnalyticsSettings,
    CohortActivity,
    CustomerRollup,
    DailyChannelRollup,
    DailyRollup,
    RollupDirtyCustomer,
    RollupDirtyDay,
    RollupState,
)
from analytics.models.survey_settings import SurveySettings
from analytics.models.surveys import (
    SCALES,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveySend,
    SurveySource,
)

__all__ = [
    "SCALES",
    "AnalyticsSettings",
    "ClvFit",
    "CohortActivity",
    "CustomerRollup",
    "DailyChannelRollup",
    "DailyRollup",
    "Forecast",
    "Goal",
    "GoalStatus",
    "RollupDirtyCustomer",
    "RollupDirtyDay",
    "RollupState",
    "Survey",
    "SurveyAnswer",
    "SurveyKind",
    "SurveySend",
    "SurveySettings",
    "SurveySource",
]
