"""The retrospective forecast (seed 002): what a launch can expect, from the same window in each
earlier year.

For each earlier period the forecast measures one rate on the base of that time, then applies the
lowest, the mean and the highest rate to today's base: the pessimistic, neutral and optimistic
outcomes. The metrics:

- retention: of the customers active at the window's start (a completed order within the activity
  window before it), the share who ordered again within the window. Outcome: returning customers.
- conversion: of the customers sent a message within the window, the share who ordered after
  their first such message, within the window. Outcome: buyers.
- revenue: the revenue within the window per customer active at its start. Outcome: revenue.

A channel narrows each past base to the customers sent a message on it within the window, and
today's base to the active customers opted in to marketing on it. A segment narrows every base to
the segment's members as they are now (membership is not kept historically).
"""

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import F, OuterRef, Subquery, Sum
from django.utils import timezone

from analytics.forecast.periods import earlier_periods
from analytics.windows import active_base, completed_orders, day_start, in_segment, messaged
from customers.models import Consent, ConsentStatus, Customer, Order

METRICS = ("retention", "conversion", "revenue")
MAX_HORIZON_DAYS = 366
DEFAULT_ACTIVITY_DAYS = 180


class ForecastError(ValueError):
    """Bad parameters or no usable history; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class PeriodResult:
    years_back: int
    start: str
    end: str
    base: int
    converted: int  # retention and conversion: customers; revenue: orders
    revenue: str
    rate: float  # retention and conversion: a share (0–1); revenue: per base customer


@dataclass
class Outcome:
    rate: float
    expected: float  # customers (retention, conversion) or money (revenue)


@dataclass
class Forecast:
    metric: str
    launch: str
    horizon_days: int
    channel: str
    segment_id: int | None
    activity_days: int
    base_on: str
    current_base: int
    periods: list[PeriodResult] = field(default_factory=list)
    pessimistic: Outcome | None = None
    neutral: Outcome | None = None
    optimistic: Outcome | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def forecast_compute(
    *,
    metric: str,
    launch: dt.date,
    horizon_days: int,
    channel: str = "",
    segment_id: int | None = None,
    activity_days: int = DEFAULT_ACTIVITY_DAYS,
    today: dt.date | None = None,
) -> Forecast:
    today = today or timezone.localdate()
    _check(metric, horizon_days, activity_days, channel)
    first_order = Order.objects.filter(status=Order.Status.COMPLETED).order_by("placed_at").first()
    if first_order is None:
        raise ForecastError("launch", "There are no completed orders to learn from yet.")
    first_day = timezone.localtime(first_order.placed_at).date()
    periods = earlier_periods(launch, horizon_days, first_day=first_day, today=today)
    if not periods:
        raise ForecastError(
            "launch",
            f"No earlier year has data for this window: the first order is on {first_day}, "
            "and a period must lie wholly between it and today.",
        )
    base_on = min(launch, today)
    result = Forecast(
        metric=metric,
        launch=launch.isoformat(),
        horizon_days=horizon_days,
        channel=channel,
        segment_id=segment_id,
        activity_days=activity_days,
        base_on=base_on.isoformat(),
        current_base=_current_base(base_on, activity_days, channel, segment_id),
    )
    for period in periods:
        result.periods.append(
            _measure(
                metric, period, activity_days=activity_days, channel=channel, segment=segment_id
            )
        )
    rates = [p.rate for p in result.periods]
    for name, rate in (
        ("pessimistic", min(rates)),
        ("neutral", sum(rates) / len(rates)),
        ("optimistic", max(rates)),
    ):
        setattr(result, name, Outcome(rate=rate, expected=rate * result.current_base))
    return result


def _check(metric: str, horizon_days: int, activity_days: int, channel: str) -> None:
    from customers.models import Channel

    if metric not in METRICS:
        raise ForecastError("metric", f"Unknown metric; use one of: {', '.join(METRICS)}.")
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ForecastError("horizon_days", f"The horizon is 1 to {MAX_HORIZON_DAYS} days.")
    if not 1 <= activity_days <= 3660:
        raise ForecastError("activity_days", "The activity window is 1 to 3660 days.")
    if channel and channel not in Channel.values:
        raise ForecastError("channel", f"Unknown channel; use one of: {', '.join(Channel.values)}.")


def _current_base(on: dt.date, activity_days: int, channel: str, segment_id: int | None) -> int:
    base = active_base(day_start(on), activity_days, segment_id)
    if channel:
        opted_in = Consent.objects.filter(channel=channel, status=ConsentStatus.OPTED_IN)
        base = base.filter(pk__in=opted_in.values("customer_id"))
    return base.count()


def _measure(metric, period, *, activity_days, channel, segment) -> PeriodResult:
    start, end = day_start(period.start), day_start(period.end)
    if metric == "conversion":
        base = in_segment(
            Customer.objects.filter(pk__in=messaged(start, end, channel).values("customer_id")),
            segment,
        )
        first_message = (
            messaged(start, end, channel)
            .filter(customer_id=OuterRef("customer_id"))
            .order_by("sent_at")
            .values("sent_at")[:1]
        )
        orders = (
            completed_orders(start, end)
            .filter(customer_id__in=base.values("pk"))
            .annotate(first_message=Subquery(first_message))
            .filter(placed_at__gte=F("first_message"))
        )
    else:
        base = active_base(start, activity_days, segment)
        if channel:
            base = base.filter(pk__in=messaged(start, end, channel).values("customer_id"))
        orders = completed_orders(start, end).filter(customer_id__in=base.values("pk"))
    base_count = base.count()
    revenue = orders.aggregate(total=Sum("total"))["total"] or Decimal("0")
    if metric == "revenue":
        converted = orders.count()
        rate = float(revenue) / base_count if base_count else 0.0
    else:
        converted = orders.values("customer_id").distinct().count()
        rate = converted / base_count if base_count else 0.0
    return PeriodResult(
        years_back=period.years_back,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        base=base_count,
        converted=converted,
        revenue=f"{Decimal(revenue):.2f}",
        rate=rate,
    )
