"""Analytics' models, one module per area; each area adds its import line here."""

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
    "Survey",
    "SurveyAnswer",
    "SurveyKind",
    "SurveySend",
    "SurveySettings",
    "SurveySource",
]
