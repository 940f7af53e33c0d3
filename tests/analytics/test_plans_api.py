"""API v1: /forecasts and /goals."""

import datetime as dt

import pytest
from django.utils import timezone

from analytics.models import Forecast, Goal
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture
def two_years():
    """Each customer orders once a year; half of them again 30 days later."""
    today = timezone.localdate()
    for n in range(6):
        customer = CustomerFactory()
        for years in (2, 1, 0):
            day = today.replace(year=today.year - years) - dt.timedelta(days=60)
            OrderFactory(
                customer=customer,
                placed_at=timezone.make_aware(dt.datetime(day.year, day.month, day.day, 12)),
            )
            if n % 2 == 0:
                later = day + dt.timedelta(days=30)
                OrderFactory(
                    customer=customer,
                    placed_at=timezone.make_aware(
                        dt.datetime(later.year, later.month, later.day, 12)
                    ),
                )
    return today


def test_a_forecast_is_computed_kept_and_listed(api, two_years):
    launch = (two_years - dt.timedelta(days=40)).isoformat()
    response = api.post(
        "/api/v1/forecasts",
        {"metric": "retention", "launch": launch, "horizon_days": 20, "name": "Spring"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Spring" and len(body["result"]["periods"]) >= 1
    assert body["result"]["neutral"]["rate"] == pytest.approx(0.5)  # half return each year
    listed = api.get("/api/v1/forecasts").json()["results"]
    assert [f["id"] for f in listed] == [body["id"]]
    assert api.get(f"/api/v1/forecasts/{body['id']}").json()["metric"] == "retention"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "profit", "launch": "2026-01-01", "horizon_days": 30}, "metric"),
        ({"metric": "revenue", "launch": "2026-13-01", "horizon_days": 30}, "launch"),
        ({"metric": "revenue", "launch": "2026-01-01", "horizon_days": 0}, "horizon_days"),
        (
            {"metric": "revenue", "launch": "2026-01-01", "horizon_days": 30, "channel": "fax"},
            "channel",
        ),
        (
            {"metric": "revenue", "launch": "2026-01-01", "horizon_days": 30, "segment": 999},
            "segment",
        ),
        ({"metric": "revenue", "launch": "1990-01-01", "horizon_days": 30}, "launch"),
    ],
)
def test_a_bad_forecast_is_a_400_naming_the_field_and_keeps_nothing(api, two_years, body, field):
    response = api.post("/api/v1/forecasts", body, format="json")
    assert response.status_code == 400
    assert fields(response) == [field]
    assert not Forecast.objects.exists()


def test_a_goal_gets_its_baseline_and_can_be_changed_checked_and_archived(api, two_years):
    deadline = (two_years + dt.timedelta(days=90)).isoformat()
    response = api.post(
        "/api/v1/goals",
        {
            "name": "Retention to 80 %",
            "metric": "retention",
            "target": 80,
            "deadline": deadline,
            "window_days": 45,  # all 6 ordered 60 days ago, 3 of them again 30 days ago
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    goal = response.json()
    assert goal["baseline"] == pytest.approx(50.0) and goal["status"] == "on_track"
    changed = api.patch(f"/api/v1/goals/{goal['id']}", {"target": 50}, format="json").json()
    assert changed["target"] == 50 and changed["status"] == "achieved"
    assert api.post(f"/api/v1/goals/{goal['id']}/check").status_code == 200
    api.patch(f"/api/v1/goals/{goal['id']}", {"archived": True}, format="json")
    assert api.get("/api/v1/goals").json()["results"] == []
    assert len(api.get("/api/v1/goals?archived=true").json()["results"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "happiness"}, "metric"),
        ({"deadline": "2000-01-01"}, "deadline"),
        ({"target": "lots"}, "target"),
        ({"journeys": [12345]}, "journeys[0]"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_goal_is_a_400_naming_the_field(api, body, field):
    good = {"name": "g", "metric": "revenue", "target": 100, "deadline": "2099-01-01"}
    response = api.post("/api/v1/goals", good | body, format="json")
    assert response.status_code == 400
    assert fields(response) == [field]
    assert not Goal.objects.exists()
