"""The retrospective forecast on a hand-built history (the arithmetic is written out per test).

History, in the workspace's zone (UTC in tests); a launch on 2026-12-01 with a 90-day horizon looks
at 2025-12-01 → 2026-03-01 and 2024-12-01 → 2025-03-01; 2023 is before the first order.

- c1–c4 order on 2024-07-01, so they are active (an order within 180 days) on 2024-12-01;
  c1 (100) and c2 (300) order again on 2025-01-15, inside the 2024 window.
- c5–c9 order on 2025-08-01, active on 2025-12-01; c5 (50) orders again on 2026-01-10.
- c10–c19 order on 2026-09-01: today's base for a launch on 2026-12-01.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.forecast.periods import earlier_periods, same_day_years_back
from analytics.forecast.service import ForecastError, forecast_compute
from channels.models import Message
from customers.models import ConsentStatus
from tests.factories import ConsentFactory, CustomerFactory, OrderFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

LAUNCH = dt.date(2026, 12, 1)
TODAY = dt.date(2026, 12, 3)


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T12:00:00"))


def order(customer, day: str, total="10.00"):
    return OrderFactory(customer=customer, placed_at=at(day), total=Decimal(total))


def message(customer, day: str, channel="email"):
    return Message.objects.create(
        customer=customer,
        channel=channel,
        category="marketing",
        source="campaign",
        status="delivered",
        sent_at=at(day),
    )


@pytest.fixture
def history():
    c = {n: CustomerFactory() for n in range(1, 20)}
    for n in range(1, 5):
        order(c[n], "2024-07-01")
    order(c[1], "2025-01-15", "100.00")
    order(c[2], "2025-01-15", "300.00")
    for n in range(5, 10):
        order(c[n], "2025-08-01")
    order(c[5], "2026-01-10", "50.00")
    for n in range(10, 20):
        order(c[n], "2026-09-01")
    return c


def test_retention_takes_the_lowest_mean_and_highest_rate_of_earlier_years(history):
    result = forecast_compute(metric="retention", launch=LAUNCH, horizon_days=90, today=TODAY)
    assert [(p.start, p.end, p.base, p.converted) for p in result.periods] == [
        ("2025-12-01", "2026-03-01", 5, 1),  # c5 of c5–c9
        ("2024-12-01", "2025-03-01", 4, 2),  # c1, c2 of c1–c4
    ]
    assert result.current_base == 10
    # rates 1/5 = 0.2 and 2/4 = 0.5; mean 0.35; applied to 10 customers
    assert result.pessimistic.rate == pytest.approx(0.2)
    assert result.pessimistic.expected == pytest.approx(2)
    assert result.neutral.expected == pytest.approx(3.5)
    assert result.optimistic.expected == pytest.approx(5)


def test_revenue_is_per_customer_of_the_base_then_times_todays_base(history):
    result = forecast_compute(metric="revenue", launch=LAUNCH, horizon_days=90, today=TODAY)
    # 2025: 50 / 5 = 10 per customer; 2024: (100 + 300) / 4 = 100
    assert [p.rate for p in result.periods] == [pytest.approx(10), pytest.approx(100)]
    assert result.periods[1].revenue == "400.00"
    assert result.neutral.expected == pytest.approx(55 * 10)


def test_conversion_counts_orders_after_the_first_message_in_the_window(history):
    c = history
    message(c[1], "2025-01-20")  # after c1's order on 01-15: not converted
    message(c[3], "2024-12-10")  # c3 never orders again
    message(c[5], "2025-12-20")  # c5 orders on 2026-01-10: converted
    message(c[6], "2025-12-20")
    message(c[7], "2025-12-20", channel="sms")  # another channel
    for n in (10, 11):
        ConsentFactory(customer=c[n], channel="email", status=ConsentStatus.OPTED_IN)
    result = forecast_compute(
        metric="conversion", launch=LAUNCH, horizon_days=90, channel="email", today=TODAY
    )
    assert [(p.base, p.converted) for p in result.periods] == [(2, 1), (2, 0)]
    assert result.current_base == 2  # active and opted in to email: c10, c11
    assert (result.pessimistic.expected, result.neutral.expected, result.optimistic.expected) == (
        pytest.approx(0),
        pytest.approx(0.5),
        pytest.approx(1),
    )


def test_a_segment_narrows_every_base(history):
    c = history
    segment_members = [c[1], c[5], c[6], c[10]]
    segment = SegmentMembershipFactory(customer=segment_members[0]).segment
    for customer in segment_members[1:]:
        SegmentMembershipFactory(segment=segment, customer=customer)
    result = forecast_compute(
        metric="retention", launch=LAUNCH, horizon_days=90, segment_id=segment.pk, today=TODAY
    )
    # 2025: c5 and c6 active, c5 returns (1/2); 2024: c1 active and returns (1/1); today: c10
    assert [(p.base, p.converted) for p in result.periods] == [(2, 1), (1, 1)]
    assert result.current_base == 1
    assert result.neutral.expected == pytest.approx(0.75)


def test_no_history_and_bad_parameters_name_the_field(history):
    with pytest.raises(ForecastError) as error:
        forecast_compute(metric="retention", launch=dt.date(2025, 3, 1), horizon_days=30)
    assert error.value.field == "launch"  # 2024-03-01 is before the first order
    with pytest.raises(ForecastError) as error:
        forecast_compute(metric="profit", launch=LAUNCH, horizon_days=30)
    assert error.value.field == "metric"
    with pytest.raises(ForecastError) as error:
        forecast_compute(metric="revenue", launch=LAUNCH, horizon_days=0)
    assert error.value.field == "horizon_days"
    with pytest.raises(ForecastError) as error:
        forecast_compute(metric="revenue", launch=LAUNCH, horizon_days=30, channel="fax")
    assert error.value.field == "channel"


def test_periods_skip_unfinished_windows_and_stop_at_the_first_data():
    periods = earlier_periods(
        dt.date(2026, 12, 1), 365, first_day=dt.date(2023, 1, 1), today=dt.date(2026, 11, 15)
    )
    # 2025-12-01 + 365 days is in the future; 2024 and 2023 are complete; 2022 is before the data
    assert [(p.years_back, p.start) for p in periods] == [
        (2, dt.date(2024, 12, 1)),
        (3, dt.date(2023, 12, 1)),
    ]
    assert same_day_years_back(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
