"""SMART goals: baseline at creation, live value, linear projection, alert once when off track."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.goals.service import GoalError, goal_check, goal_create, goal_progress
from analytics.goals.values import goal_metric_value
from analytics.models import Goal, GoalStatus
from channels.models import WebhookDelivery, WebhookSubscription
from channels.services.webhooks_out import forget_webhook_subscriptions
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 3)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def goal(**fields) -> Goal:
    values = {
        "name": "g",
        "metric": "retention",
        "baseline": 10.0,
        "target": 20.0,
        "starts_on": dt.date(2026, 11, 3),
        "deadline": dt.date(2027, 1, 2),
    }
    values.update(fields)
    return Goal(**values)


@pytest.mark.parametrize(
    ("value", "status", "projected"),
    [
        # 30 days from 10 to 16: +0.2/day; 30 more days to the deadline → 22 ≥ 20
        (16.0, GoalStatus.ON_TRACK, 22.0),
        # 10 → 13: +0.1/day → 16 < 20
        (13.0, GoalStatus.OFF_TRACK, 16.0),
        (21.0, GoalStatus.ACHIEVED, 21.0),
        (None, GoalStatus.NO_DATA, None),
    ],
)
def test_progress_projects_the_pace_since_the_baseline(value, status, projected):
    progress = goal_progress(goal(), value, TODAY)
    assert progress.status == status
    assert progress.projected == (pytest.approx(projected) if projected is not None else None)


def test_a_goal_to_cut_something_reaches_downwards():
    # AOV from 100 down to 80: 30 days 100 → 95 (−1/6 a day), 30 more → 90 > 80: off track
    cut = goal(metric="aov", baseline=100.0, target=80.0)
    assert goal_progress(cut, 95.0, TODAY).status == GoalStatus.OFF_TRACK
    assert goal_progress(cut, 79.0, TODAY).status == GoalStatus.ACHIEVED


def test_after_the_deadline_a_goal_not_reached_is_missed():
    assert goal_progress(goal(), 19.0, dt.date(2027, 1, 2)).status == GoalStatus.MISSED


def _orders(n_active: int, n_returning: int):
    """n_active customers ordered 100 days before TODAY; n_returning of them ordered again 10 days
    before: in a 90-day window ending TODAY, retention = n_returning / n_active."""
    customers = [CustomerFactory() for _ in range(n_active)]
    for customer in customers:
        OrderFactory(customer=customer, placed_at=at(TODAY - dt.timedelta(days=100)))
    for customer in customers[:n_returning]:
        OrderFactory(
            customer=customer,
            placed_at=at(TODAY - dt.timedelta(days=10)),
            total=Decimal("50.00"),
        )
    return customers


def test_the_baseline_is_measured_at_creation_and_the_window_is_trailing():
    _orders(10, 3)
    made = goal_create(
        name="Retention to 50 %",
        metric="retention",
        target=50,
        deadline=TODAY + dt.timedelta(days=60),
        today=TODAY,
    )
    assert made.baseline == pytest.approx(30.0)  # 3 of 10
    assert made.value == pytest.approx(30.0)
    assert made.status == GoalStatus.ON_TRACK  # too early for a pace
    assert goal_metric_value("revenue", end=TODAY, window_days=90) == pytest.approx(150.0)
    assert goal_metric_value("aov", end=TODAY, window_days=90) == pytest.approx(50.0)
    assert goal_metric_value("repeat_rate", end=TODAY, window_days=120) == pytest.approx(30.0)


def test_bad_goals_name_the_field():
    with pytest.raises(GoalError) as error:
        goal_create(name="x", metric="happiness", target=1, deadline=TODAY, today=TODAY)
    assert error.value.field == "metric"
    with pytest.raises(GoalError) as error:
        goal_create(name="x", metric="revenue", target=1, deadline=TODAY, today=TODAY)
    assert error.value.field == "deadline"
    assert not Goal.objects.exists()


def test_going_off_track_alerts_the_crm_once(httpserver):
    from channels.services.webhooks_out import webhook_deliver

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    WebhookSubscription.objects.create(
        name="CRM", url=httpserver.url_for("/hook"), secret="s3cret", event_types=["goal.off_track"]
    )
    forget_webhook_subscriptions()
    _orders(10, 1)  # retention 10 % now
    made = goal_create(
        name="Retention to 50 %",
        metric="retention",
        target=50,
        deadline=TODAY + dt.timedelta(days=60),
        today=TODAY - dt.timedelta(days=30),
    )
    made.baseline = 9.0  # 30 days ago; 9 → 10 in 30 days: 12 by the deadline, far from 50
    made.save()
    goal_check(made, today=TODAY)
    goal_check(made, today=TODAY)  # still off track: no second alert
    assert made.status == GoalStatus.OFF_TRACK and made.off_track_since
    deliveries = WebhookDelivery.objects.filter(event_type="goal.off_track")
    assert deliveries.count() == 1
    delivery = deliveries.get()
    assert delivery.payload["type"] == "goal.off_track"
    assert delivery.payload["data"]["goal_id"] == made.pk
    assert delivery.payload["data"]["status"] == "off_track"
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    body = httpserver.log[0][0].get_json()
    assert body["type"] == "goal.off_track" and body["data"]["name"] == made.name


def test_survey_goals_use_the_survey_scores():
    from analytics.models import Survey, SurveyAnswer, SurveySend

    customer = CustomerFactory()
    when = at(TODAY - dt.timedelta(days=3))

    def answers(kind: str, scores: list[int]) -> None:
        survey = Survey.objects.create(name=kind, kind=kind)
        for score in scores:
            send = SurveySend.objects.create(
                survey=survey, customer=customer, channel="email", source="manual",
                sent_at=when, expires_at=when + dt.timedelta(days=14),
            )  # fmt: skip
            SurveyAnswer.objects.create(
                send=send, survey=survey, customer=customer, channel="email", score=score,
                answered_at=when,
            )  # fmt: skip

    answers("nps", [10, 9, 9, 8, 7, 6, 3, 10])  # 4 promoters, 2 detractors of 8: NPS 25
    answers("csat", [5, 4, 3, 2, 5])  # 3 of 5 are 4–5: 60 %
    answers("ces", [7, 6, 2, 5])  # the average: 20 / 4 = 5
    value = lambda metric: goal_metric_value(metric, end=TODAY, window_days=30)  # noqa: E731
    assert value("nps") == pytest.approx(25.0)
    assert value("csat") == pytest.approx(60.0)
    assert value("ces") == pytest.approx(5.0)
    assert goal_metric_value("nps", end=TODAY, window_days=30, channel="sms") is None
