"""POST/GET /api/v1/messages: 202 at once, suppression reasons, idempotency, filters, errors."""

import pytest

from channels.models import Message

pytestmark = pytest.mark.django_db


def post(api, **body):
    return api.post("/api/v1/messages", body, format="json")


def test_sending_answers_202_with_the_queued_message(api, reachable_customer, sandbox):
    customer = reachable_customer("email")
    response = post(
        api,
        customer=customer.external_id,
        channel="email",
        category="marketing",
        subject="Autumn sale",
        body="−20 % on everything",
    )
    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["status"] == "queued"
    assert data["customer"] == customer.external_id
    assert data["source"] == "api"
    assert Message.objects.get(pk=data["id"]).address == customer.email


def test_a_refused_send_is_202_with_the_reason(api, reachable_customer, sandbox):
    customer = reachable_customer("email", consent="opted_out")
    response = post(
        api,
        customer=customer.external_id,
        channel="email",
        category="transactional",
        subject="Receipt",
        body="Thanks",
    )
    assert response.status_code == 202
    assert response.json()["status"] == "suppressed"
    assert response.json()["status_reason"] == "consent: opted out of email"


def test_an_sms_reports_its_parts(api, reachable_customer, sandbox):
    customer = reachable_customer("sms")
    body = "Ваш заказ собран и ждёт вас в пункте выдачи на Тверской, 7. Код получения: 4417."
    response = post(
        api, customer=customer.external_id, channel="sms", category="transactional", body=body
    )
    assert response.json()["parts"] == 2  # 84 UCS-2 characters


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email", "category": "marketing", "body": "x"}, "subject"),
        ({"channel": "sms", "category": "marketing"}, "body"),
        ({"channel": "fax", "category": "marketing", "body": "x"}, "channel"),
        ({"channel": "sms", "category": "spam", "body": "x"}, "category"),
        ({"channel": "sms", "category": "marketing", "body": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, reachable_customer, body, field):
    customer = reachable_customer("sms")
    response = post(api, customer=customer.external_id, **body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Message.objects.exists()


def test_an_unknown_customer_is_404(api):
    response = post(api, customer="nobody", channel="sms", category="marketing", body="x")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_same_idempotency_key_returns_the_first_message(api, reachable_customer, sandbox):
    customer = reachable_customer("sms")
    body = {
        "customer": customer.external_id,
        "channel": "sms",
        "category": "transactional",
        "body": "Code 1234",
        "idempotency_key": "otp-77",
    }
    first = post(api, **body).json()
    again = post(api, **body)
    assert again.status_code == 202
    assert again.json()["id"] == first["id"]
    reused = post(api, **{**body, "body": "Code 9999"})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1


def test_a_read_key_cannot_send(read_api, reachable_customer):
    customer = reachable_customer("sms")
    response = post(
        read_api, customer=customer.external_id, channel="sms", category="marketing", body="x"
    )
    assert response.status_code == 403


def test_get_shows_the_status_history(api, reachable_customer, sandbox):
    from channels.services.delivery import messages_deliver

    customer = reachable_customer("sms")
    message_id = post(
        api, customer=customer.external_id, channel="sms", category="transactional", body="Hi"
    ).json()["id"]
    messages_deliver([message_id])
    data = api.get(f"/api/v1/messages/{message_id}").json()
    assert data["status"] == "sent"
    assert [c["status"] for c in data["status_changes"]] == ["sent"]
    assert api.get("/api/v1/messages/999999").status_code == 404


def test_the_list_filters_by_customer_channel_and_status(api, reachable_customer, sandbox):
    anna = reachable_customer("sms")
    boris = reachable_customer("sms")
    for customer in (anna, anna, boris):
        post(api, customer=customer.external_id, channel="sms", category="transactional", body="x")
    listed = api.get("/api/v1/messages", {"customer": anna.external_id, "status": "queued"}).json()
    assert len(listed["results"]) == 2
    assert {m["customer"] for m in listed["results"]} == {anna.external_id}
    assert api.get("/api/v1/messages", {"status": "nonsense"}).status_code == 400


def test_a_retried_marketing_sms_returns_the_first_message(api, reachable_customer, sandbox):
    customer = reachable_customer("sms")
    body = {
        "customer": customer.external_id,
        "channel": "sms",
        "category": "marketing",
        "body": "Autumn sale: -20 % https://shop.example/sale",
        "idempotency_key": "autumn-1",
    }
    first = post(api, **body)
    assert first.status_code == 202, first.json()
    # The stored body has the opt-out line and a short link; the retry is still the same request.
    assert Message.objects.get().body != body["body"]
    again = post(api, **body)
    assert again.status_code == 202, again.json()
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1


def test_a_different_request_under_the_same_key_is_422(api, reachable_customer, sandbox):
    customer = reachable_customer("sms")
    body = {
        "customer": customer.external_id,
        "channel": "sms",
        "category": "marketing",
        "body": "Autumn sale",
        "idempotency_key": "autumn-2",
    }
    assert post(api, **body).status_code == 202
    for change in ({"category": "transactional"}, {"payload": {"track": False}}):
        reused = post(api, **{**body, **change})
        assert reused.status_code == 422, change
        assert reused.json()["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1
