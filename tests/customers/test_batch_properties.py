"""Any JSON value in any field of a batch item: 2xx, or 4xx naming that field with nothing stored.

Hypothesis replaces one field of a valid item with an arbitrary JSON value (derandomized, so every
run tries the same values) and checks the answer and the row counts of everything a batch writes.
"""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.models import Message
from customers.models import (
    ChannelIdentity,
    Consent,
    ConsentChange,
    Customer,
    Event,
    Order,
    OrderItem,
)

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STORED = (Customer, ChannelIdentity, Consent, ConsentChange, Event, Order, OrderItem, Message)

VALID_ITEMS: dict[str, dict[str, Any]] = {
    "/api/v1/customers/batch": {
        "external_id": "c-1",
        "email": "anna@example.com",
        "phone": "+79161234567",
        "first_name": "Anna",
        "last_name": "Petrova",
        "locale": "ru-RU",
        "timezone": "Europe/Moscow",
        "birth_date": "1990-05-17",
        "lifecycle_stage": "customer",
        "identities": [{"channel": "telegram", "address": "@anna_petrova"}],
        "consents": [{"channel": "email", "status": "opted_in", "source": "checkout"}],
        "created_at": "2026-01-01T10:00:00+03:00",
    },
    "/api/v1/events/batch": {
        "event_id": "e-1",
        "customer_external_id": "c-1",
        "name": "product_viewed",
        "properties": {"sku": "GPU-1", "price": 499.5},
        "occurred_at": "2026-11-30T12:00:00Z",
        "source": "shop",
    },
    "/api/v1/orders/batch": {
        "external_id": "o-1",
        "customer_external_id": "c-1",
        "status": "completed",
        "placed_at": "2026-11-30T12:00:00Z",
        "total": "998.00",
        "currency": "RUB",
        "promo_code": "WINTER",
        "items": [{"sku": "GPU-1", "name": "Video card", "quantity": 2, "price": 499}],
    },
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


def _names_field(error: dict[str, Any], field: str) -> bool:
    return error.get("index") == 0 and error["field"].split(".")[0].split("[")[0] == field


@pytest.mark.parametrize("endpoint", list(VALID_ITEMS))
def test_any_json_value_in_any_field_is_stored_or_refused_naming_that_field(api, endpoint):
    fields = sorted(VALID_ITEMS[endpoint])

    @PROPERTY_SETTINGS
    @given(field=st.sampled_from(fields), value=json_values)
    def check(field: str, value: Any) -> None:
        item = {**VALID_ITEMS[endpoint], field: value}
        before = _row_counts()
        response = api.post(endpoint, {"items": [item]})
        assert response.status_code < 500, (field, value, response.content)
        if response.status_code < 300:
            return
        assert 400 <= response.status_code < 500
        assert _row_counts() == before, (field, value)
        errors = response.json()["errors"]
        assert any(_names_field(error, field) for error in errors), (field, value, errors)

    check()
