"""Analytics' models, one module per area; each area adds its import line here."""

from analytics.models.clv import ClvFit
from analytics.models.goals import Forecast, Goal, GoalStatus
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
    "ClvFit",
    "Forecast",
    "Goal",
    "GoalStatus",
    "Survey",
    "SurveyAnswer",
    "SurveyKind",
    "SurveySend",
    "SurveySource",
]
