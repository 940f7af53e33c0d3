"""The forecast and goals pages."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import Forecast, Goal, GoalStatus
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def history():
    """Four customers order every year 60 days before today; two of them again 30 days later."""
    today = timezone.localdate()
    for n in range(4):
        customer = CustomerFactory()
        for years in (2, 1, 0):
            day = today.replace(year=today.year - years) - dt.timedelta(days=60)
            OrderFactory(customer=customer, placed_at=at(day))
            if n < 2:
                OrderFactory(customer=customer, placed_at=at(day + dt.timedelta(days=30)))
    return today


def _params(today):
    return {
        "metric": "retention",
        "launch": (today - dt.timedelta(days=40)).isoformat(),
        "horizon_days": 30,
        "activity_days": 180,
    }


def test_the_forecast_shows_periods_outcomes_and_a_csv(client_as, history):
    client = client_as("marketing")
    page = client.get(reverse("analytics:forecast"), _params(history))
    assert page.status_code == 200
    text = page.content.decode()
    assert "50.0 %" in text  # two of four return in each earlier year
    assert page.context["result"]["neutral"]["rate"] == pytest.approx(0.5)
    csv = client.get(reverse("analytics:forecast"), _params(history) | {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Period,From") and len(lines) == 1 + 2 + 3


def test_a_forecast_without_history_says_so_on_the_launch_field(client_as, history):
    page = client_as("marketing").get(
        reverse("analytics:forecast"), _params(history) | {"launch": "1990-01-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["launch"]


def test_marketing_saves_a_forecast_and_reopens_it(client_as, history):
    client = client_as("marketing")
    response = client.post(reverse("analytics:forecast_save"), _params(history) | {"name": "Q1"})
    saved = Forecast.objects.get()
    assert response.url == reverse("analytics:forecast_saved", args=[saved.pk])
    assert saved.name == "Q1" and saved.result["neutral"]["rate"] == pytest.approx(0.5)
    assert "Q1" in client.get(response.url).content.decode()


def test_support_sees_neither_page(client_as):
    client = client_as("support")
    assert client.get(reverse("analytics:forecast")).status_code == 403
    assert client.get(reverse("analytics:goals")).status_code == 403


def test_a_goal_form_error_sits_on_its_field_and_a_good_goal_shows_as_a_card(client_as, history):
    client = client_as("marketing")
    bad = client.post(
        reverse("analytics:goal_new"),
        {
            "name": "Repeat",
            "metric": "repeat_rate",
            "target": "x",
            "deadline": "",
            "window_days": 90,
        },
    )
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"target", "deadline"}
    deadline = (history + dt.timedelta(days=60)).isoformat()
    good = client.post(
        reverse("analytics:goal_new"),
        {
            "name": "Repeat",
            "metric": "repeat_rate",
            "target": 80,
            "deadline": deadline,
            "window_days": 120,
        },
    )
    assert good.status_code == 302
    goal = Goal.objects.get()
    assert goal.baseline == pytest.approx(50.0)  # 2 of 4 buyers bought twice in 120 days
    page = client.get(reverse("analytics:goals")).content.decode()
    assert "Repeat" in page and "50.0 %" in page


def test_a_goal_off_track_shows_a_notice_on_home_and_analytics(client_as):
    Goal.objects.create(
        name="Email retention to 20 %",
        metric="retention",
        target=20,
        baseline=10,
        starts_on=dt.date(2026, 1, 1),
        deadline=dt.date(2027, 1, 1),
        status=GoalStatus.OFF_TRACK,
        off_track_since=timezone.now(),
    )
    client = client_as("marketing")
    for url in (reverse("workspace:home"), reverse("analytics:index")):
        assert "Email retention to 20 %" in client.get(url).content.decode()
    assert (
        "Email retention to 20 %"
        not in client_as("support").get(reverse("workspace:home")).content.decode()
    )
