"""What every metric is asked for: a period, a granularity and optional narrowing filters."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from analytics.models import AnalyticsSettings
from analytics.rollups.days import day_start, month_start

GRANULARITIES = ("day", "week", "month")
DEFAULT_CHURN_WINDOW_DAYS = 180


@dataclass(frozen=True)
class MetricFilters:
    date_from: dt.date
    date_to: dt.date  # inclusive
    granularity: str = "month"
    segment_id: int | None = None
    channel: str | None = None
    cohort: dt.date | None = None  # an acquisition month (its first day)

    @property
    def start(self) -> dt.datetime:
        return day_start(self.date_from)

    @property
    def end(self) -> dt.datetime:
        """The instant after the period: midnight after date_to."""
        return day_start(self.date_to + dt.timedelta(days=1))

    @property
    def narrowed(self) -> bool:
        """Whether the whole-base rollups can answer, or orders must be read."""
        return self.segment_id is not None or self.cohort is not None

    def customer_q(self, prefix: str = "customer__") -> Q:
        """Rows whose customer is in the segment and the acquisition cohort asked for."""
        q = Q()
        if self.segment_id is not None:
            q &= Q(**{f"{prefix}segment_memberships__segment_id": self.segment_id})
        if self.cohort is not None:
            q &= Q(**{f"{prefix}rollup__cohort_month": month_start(self.cohort)})
        return q


def churn_window_days() -> int:
    row = AnalyticsSettings.objects.order_by("pk").first()
    return row.churn_window_days if row else DEFAULT_CHURN_WINDOW_DAYS


def bucket_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == "month":
        return month_start(day)
    if granularity == "week":  # ISO weeks start on Monday
        return day - dt.timedelta(days=day.weekday())
    return day


def buckets(filters: MetricFilters) -> list[dt.date]:
    """The first day of every bucket the period touches, in order."""
    out: list[dt.date] = []
    day = filters.date_from
    while day <= filters.date_to:
        start = bucket_start(day, filters.granularity)
        if not out or out[-1] != start:
            out.append(start)
        day += dt.timedelta(days=1)
    return out
