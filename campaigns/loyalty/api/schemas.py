"""What API clients send to the points endpoints, validated with pydantic."""

from pydantic import Field

from api.types import text
from customers.api.schemas import Strict

MAX_POINTS = 10_000_000


class PointsChangeIn(Strict):
    points: int = Field(gt=0, le=MAX_POINTS, description="How many points, always positive.")
    reason: text(max_length=255) = ""
