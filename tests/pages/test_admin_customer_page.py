"""An agent finds a customer by the phone they call from and reads their whole history."""

from pathlib import Path

import pytest
from django.conf import settings

from customers.api.schemas import CustomerIn, EventIn, OrderIn
from customers.services.customers import customer_upsert_batch
from customers.services.events import event_ingest_batch
from customers.services.orders import order_upsert_batch

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


@pytest.fixture
def customer_with_history():
    customer_upsert_batch(
        items=[
            CustomerIn.model_validate(
                {
                    "external_id": "crm-77",
                    "first_name": "Светлана",
                    "last_name": "Кузнецова",
                    "email": "sveta@example.ru",
                    "phone": "+79161234567",
                    "identities": [{"channel": "telegram", "address": "@sveta_k"}],
                    "consents": [{"channel": "email", "status": "opted_in", "source": "checkout"}],
                }
            )
        ]
    )
    event_ingest_batch(
        items=[
            EventIn.model_validate(
                {
                    "event_id": "e-1",
                    "customer_external_id": "crm-77",
                    "name": "add_to_cart",
                    "occurred_at": "2026-11-20T10:00:00Z",
                }
            )
        ]
    )
    order_upsert_batch(
        items=[
            OrderIn.model_validate(
                {
                    "external_id": "o-501",
                    "customer_external_id": "crm-77",
                    "placed_at": "2026-11-21T12:00:00Z",
                    "total": "32990.00",
                    "currency": "RUB",
                    "items": [{"sku": "GPU-1", "name": "RTX 4060", "price": "32990.00"}],
                }
            )
        ]
    )


def test_an_agent_finds_a_caller_by_phone_and_sees_identities_consents_and_timeline(
    page, live_server, admin_user, customer_with_history
):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.fill("#searchbar", "8 (916) 123-45-67")
    page.press("#searchbar", "Enter")
    page.click("text=Кузнецова")

    body = page.locator("body")
    page.wait_for_selector("text=@sveta_k")
    assert "sveta@example.ru" in body.inner_text()
    timeline = body.inner_text()
    assert "Opted in" in timeline
    assert "add_to_cart" in timeline
    assert "Order o-501" in timeline
    assert timeline.index("Order o-501") < timeline.index("add_to_cart")  # newest first

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-customer.png"), full_page=True)
