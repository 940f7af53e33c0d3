"""Analytics' models, one module per area; each area adds its import line here."""

from analytics.models.clv import ClvFit
from analytics.models.surveys import (
    SCALES,
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveySend,
    SurveySource,
)

__all__ = ["SCALES", "ClvFit", "Survey", "SurveyAnswer", "SurveyKind", "SurveySend", "SurveySource"]
