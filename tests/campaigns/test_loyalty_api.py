import pytest
from django.utils import timezone

from campaigns.loyalty.services import points_earn
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(external_id="crm-7")


def test_the_balance_shows_the_sum_and_the_soonest_expiry(read_api, customer):
    points_earn(customer=customer, points=40)
    body = read_api.get("/api/v1/customers/crm-7/points").json()
    assert body["balance"] == 40
    assert body["next_expiry_points"] == 40
    assert body["next_expiry_at"]


def test_a_customer_without_points_has_a_zero_balance(read_api, customer):
    body = read_api.get("/api/v1/customers/crm-7/points").json()
    assert body == {"balance": 0, "next_expiry_at": None, "next_expiry_points": 0}


def test_an_unknown_customer_is_404(read_api):
    assert read_api.get("/api/v1/customers/nobody/points").status_code == 404


def test_earn_and_spend_with_an_idempotency_key_change_the_balance_once(api, customer):
    headers = {"Idempotency-Key": "earn-1"}
    first = api.post("/api/v1/customers/crm-7/points/earn", {"points": 100}, headers=headers)
    again = api.post("/api/v1/customers/crm-7/points/earn", {"points": 100}, headers=headers)
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    spent = api.post(
        "/api/v1/customers/crm-7/points/spend",
        {"points": 30, "reason": "Checkout"},
        headers={"Idempotency-Key": "spend-1"},
    )
    assert spent.status_code == 201
    assert spent.json()["entry"]["points"] == -30
    assert spent.json()["balance"]["balance"] == 70


def test_spending_more_than_the_balance_is_409_naming_points(api, customer):
    points_earn(customer=customer, points=10)
    response = api.post("/api/v1/customers/crm-7/points/spend", {"points": 11})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_points"
    assert body["errors"][0]["field"] == "points"


@pytest.mark.parametrize("payload", [{"points": 0}, {"points": -5}, {"points": "x"}, {}, []])
def test_bad_input_is_400(api, customer, payload):
    response = api.post("/api/v1/customers/crm-7/points/earn", payload)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_a_read_key_cannot_earn(read_api, customer):
    response = read_api.post("/api/v1/customers/crm-7/points/earn", {"points": 5})
    assert response.status_code == 403


def test_history_pages_newest_first_with_a_cursor(read_api, customer):
    for n in range(1, 4):
        points_earn(customer=customer, points=n, now=timezone.now())
    first = read_api.get("/api/v1/customers/crm-7/points/history?limit=2").json()
    assert [e["points"] for e in first["results"]] == [3, 2]
    second = read_api.get(first["next"]).json()
    assert [e["points"] for e in second["results"]] == [1]
    bad = read_api.get("/api/v1/customers/crm-7/points/history?cursor=forged")
    assert bad.status_code == 400


def test_the_operations_are_in_the_openapi_schema(read_api):
    schema = read_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    spend = schema["paths"]["/api/v1/customers/{external_id}/points/spend"]["post"]
    assert "409" in spend["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in spend["parameters"])
    assert "/api/v1/customers/{external_id}/points/history" in schema["paths"]
