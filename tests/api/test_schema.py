import pytest
import yaml
from django.test import Client
from jsonschema import Draft202012Validator

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/customers/{external_id}/promo-codes": {"get"},
    "/api/v1/customers/{external_id}/clv": {"get"},
    "/api/v1/clv": {"get"},
    "/api/v1/promo/pools": {"get", "post"},
    "/api/v1/promo/pools/{pool_id}": {"get", "patch"},
    "/api/v1/promo/pools/{pool_id}/archive": {"post"},
    "/api/v1/promo/pools/{pool_id}/codes": {"get"},
    "/api/v1/promo/pools/{pool_id}/generate": {"post"},
    "/api/v1/promo/pools/{pool_id}/import": {"post"},
    "/api/v1/promo/pools/{pool_id}/reserve": {"post"},
    "/api/v1/customers/{external_id}/points": {"get"},
    "/api/v1/customers/{external_id}/points/history": {"get"},
    "/api/v1/customers/{external_id}/points/earn": {"post"},
    "/api/v1/customers/{external_id}/points/spend": {"post"},
    "/api/v1/customers/{external_id}/recommendations": {"get"},
    "/api/v1/customers/{external_id}/recommendations/refresh": {"post"},
    "/api/v1/customers": {"get", "post"},
    "/api/v1/customers/batch": {"post"},
    "/api/v1/customers/{external_id}": {"get", "patch", "delete"},
    "/api/v1/customers/{external_id}/export": {"get"},
    "/api/v1/customers/{external_id}/timeline": {"get"},
    "/api/v1/customers/{external_id}/consents": {"get"},
    "/api/v1/customers/{external_id}/consents/{channel}": {"put"},
    "/api/v1/events/batch": {"post"},
    "/api/v1/orders/batch": {"post"},
    "/api/v1/segments": {"get", "post"},
    "/api/v1/segments/preview": {"post"},
    "/api/v1/segments/rfm-matrix": {"get"},
    "/api/v1/segments/{segment_id}": {"get", "patch", "delete"},
    "/api/v1/segments/{segment_id}/members": {"get", "post", "delete"},
    "/api/v1/segments/{segment_id}/members.csv": {"get"},
    "/api/v1/segments/{segment_id}/refresh": {"post"},
    "/api/v1/messages": {"get", "post"},
    "/api/v1/messages/{message_id}": {"get"},
    "/api/v1/conversations": {"get"},
    "/api/v1/conversations/{conversation_id}": {"get", "patch"},
    "/api/v1/conversations/{conversation_id}/messages": {"post"},
    "/api/v1/calls/lookup": {"get"},
    "/api/v1/customers/{external_id}/push-subscriptions": {"post", "delete"},
    "/api/v1/attribution": {"get"},
    "/api/v1/attribution/orders/{external_id}": {"get"},
    "/api/v1/attribution/uplift": {"get"},
    "/api/v1/templates": {"get", "post"},
    "/api/v1/templates/preview": {"post"},
    "/api/v1/templates/{template_id}": {"get", "patch"},
    "/api/v1/templates/{template_id}/versions": {"get"},
    "/api/v1/templates/{template_id}/render": {"post"},
    "/api/v1/broadcasts": {"get", "post"},
    "/api/v1/broadcasts/{broadcast_id}": {"get", "patch"},
    "/api/v1/broadcasts/{broadcast_id}/schedule": {"post"},
    "/api/v1/broadcasts/{broadcast_id}/launch": {"post"},
    "/api/v1/broadcasts/{broadcast_id}/pause": {"post"},
    "/api/v1/broadcasts/{broadcast_id}/resume": {"post"},
    "/api/v1/broadcasts/{broadcast_id}/cancel": {"post"},
    "/api/v1/broadcasts/{broadcast_id}/results": {"get"},
    "/api/v1/broadcasts/{broadcast_id}/recipients": {"get"},
    "/api/v1/journeys": {"get", "post"},
    "/api/v1/journeys/{journey_id}": {"get", "patch"},
    "/api/v1/journeys/{journey_id}/versions": {"get"},
    "/api/v1/journeys/{journey_id}/versions/{number}": {"get"},
    "/api/v1/journeys/{journey_id}/checks": {"get"},
    "/api/v1/journeys/{journey_id}/publish": {"post"},
    "/api/v1/journeys/{journey_id}/pause": {"post"},
    "/api/v1/journeys/{journey_id}/resume": {"post"},
    "/api/v1/journeys/{journey_id}/archive": {"post"},
    "/api/v1/journeys/{journey_id}/enrollments": {"post"},
    "/api/v1/journeys/{journey_id}/stats": {"get"},
    "/api/v1/journeys/{journey_id}/dry-run": {"post"},
    "/api/v1/customers/{external_id}/journeys": {"get"},
    "/api/v1/cjms": {"get", "post"},
    "/api/v1/cjms/{cjm_id}": {"get", "patch", "delete"},
    "/api/v1/strategies": {"get", "post"},
    "/api/v1/strategies/{strategy_id}": {"get", "patch", "delete"},
    "/api/v1/strategies/{strategy_id}/content": {"post"},
    "/api/v1/strategies/{strategy_id}/content/{content_id}": {"delete"},
    "/api/v1/strategies/{strategy_id}/funnel": {"get"},
    "/api/v1/forecasts": {"get", "post"},
    "/api/v1/forecasts/{forecast_id}": {"get"},
    "/api/v1/goals": {"get", "post"},
    "/api/v1/goals/{goal_id}": {"get", "patch"},
    "/api/v1/goals/{goal_id}/check": {"post"},
    "/api/v1/surveys": {"get", "post"},
    "/api/v1/surveys/{survey_id}": {"get", "patch"},
    "/api/v1/surveys/{survey_id}/send": {"post"},
    "/api/v1/surveys/{survey_id}/answers": {"get"},
    "/api/v1/surveys/{survey_id}/scores": {"get"},
    "/api/v1/survey-answers": {"get"},
    "/api/v1/metrics/customers": {"get"},
    "/api/v1/metrics/retention": {"get"},
    "/api/v1/metrics/cohorts": {"get"},
    "/api/v1/metrics/conversion": {"get"},
    "/api/v1/metrics/funnel": {"get"},
    "/api/v1/metrics/channels": {"get"},
}


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_openapi_3_and_documents_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    documented = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    assert documented == ENDPOINTS


def test_every_operation_documents_its_errors_and_the_bearer_key(schema):
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "429"} <= responses.keys(), (method, path)
            if "requestBody" in operation:
                assert {"400", "403", "413", "415"} <= responses.keys(), (method, path)


IDEMPOTENT_OPERATIONS = {
    ("post", "/api/v1/customers"),
    ("post", "/api/v1/customers/batch"),
    ("post", "/api/v1/events/batch"),
    ("post", "/api/v1/orders/batch"),
    ("post", "/api/v1/segments"),
    ("post", "/api/v1/conversations/{conversation_id}/messages"),
    ("post", "/api/v1/templates"),
    ("post", "/api/v1/customers/{external_id}/points/earn"),
    ("post", "/api/v1/customers/{external_id}/points/spend"),
    ("post", "/api/v1/promo/pools"),
    ("post", "/api/v1/promo/pools/{pool_id}/generate"),
    ("post", "/api/v1/promo/pools/{pool_id}/import"),
    ("post", "/api/v1/promo/pools/{pool_id}/reserve"),
    ("post", "/api/v1/broadcasts"),
    ("post", "/api/v1/broadcasts/{broadcast_id}/schedule"),
    ("post", "/api/v1/broadcasts/{broadcast_id}/launch"),
    ("post", "/api/v1/broadcasts/{broadcast_id}/pause"),
    ("post", "/api/v1/broadcasts/{broadcast_id}/resume"),
    ("post", "/api/v1/broadcasts/{broadcast_id}/cancel"),
    ("post", "/api/v1/journeys"),
    ("post", "/api/v1/journeys/{journey_id}/publish"),
    ("post", "/api/v1/journeys/{journey_id}/pause"),
    ("post", "/api/v1/journeys/{journey_id}/resume"),
    ("post", "/api/v1/journeys/{journey_id}/archive"),
    ("post", "/api/v1/journeys/{journey_id}/enrollments"),
    ("post", "/api/v1/cjms"),
    ("post", "/api/v1/strategies"),
    ("post", "/api/v1/strategies/{strategy_id}/content"),
    ("post", "/api/v1/forecasts"),
    ("post", "/api/v1/goals"),
    ("post", "/api/v1/goals/{goal_id}/check"),
    ("post", "/api/v1/surveys"),
    ("post", "/api/v1/surveys/{survey_id}/send"),
}


def test_every_text_parameter_documents_that_nul_is_refused(schema):
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                text = parameter["schema"].get("items", parameter["schema"])
                if text.get("type") == "string" and not {"enum", "format"} & text.keys():
                    assert "pattern" in text, parameter


def test_every_operation_documents_each_error_the_shared_machinery_can_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "401", "403", "429"}
            if "{" in path:
                expected.add("404")
            if (method, path) in IDEMPOTENT_OPERATIONS:
                expected |= {"409", "422"}
            assert expected <= responses.keys(), (method, path)
            for code in expected:
                content = responses[code]["content"]["application/json"]
                assert content["schema"]["$ref"].endswith("/Error"), (method, path, code)


def test_the_idempotency_key_header_and_its_length_are_documented_where_it_is_honoured(schema):
    documented = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key":
                    assert parameter["schema"] == {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": "^[^\\u0000]*$",
                    }
                    documented.add((method, path))
    assert documented == IDEMPOTENT_OPERATIONS


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_idempotency_key_of_a_length_the_schema_forbids_is_400_naming_the_header(api, key):
    response = api.post(
        "/api/v1/customers/batch",
        {"items": [{"external_id": "c1"}]},
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "must be 1 to 255 characters long"}
    ]


def test_a_request_body_with_a_decimal_is_documented_as_validated_number_or_string(schema):
    total = schema["components"]["schemas"]["OrderIn"]["properties"]["total"]
    assert {branch["type"] for branch in total["anyOf"]} == {"number", "string"}


def test_batch_requests_are_documented_from_their_validation_models(schema):
    body = schema["paths"]["/api/v1/events/batch"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][ref]["properties"]["items"]["maxItems"] == 1000


def test_the_docs_page_loads_its_assets_locally_not_from_a_cdn(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


FORMATS = [
    ("/api/v1/customers/batch", "CustomerIn", "email", "anna@example.com", True),
    ("/api/v1/customers/batch", "CustomerIn", "email", "anna at example.com", False),
    ("/api/v1/customers/batch", "CustomerIn", "phone", "+7 916 123-45-67", True),
    ("/api/v1/customers/batch", "CustomerIn", "phone", "8 (916) 123-45-67", True),
    ("/api/v1/customers/batch", "CustomerIn", "phone", "call me", False),
    ("/api/v1/customers/batch", "CustomerIn", "locale", "ru_RU", True),
    ("/api/v1/customers/batch", "CustomerIn", "locale", "en", True),
    ("/api/v1/customers/batch", "CustomerIn", "locale", "русский", False),
    ("/api/v1/customers/batch", "CustomerIn", "timezone", "Europe/Moscow", True),
    ("/api/v1/customers/batch", "CustomerIn", "timezone", "Mars/Olympus_Mons", False),
    ("/api/v1/customers/batch", "CustomerIn", "external_id", "crm/42", False),
    ("/api/v1/customers/batch", "CustomerIn", "external_id", "batch", False),
    ("/api/v1/orders/batch", "OrderIn", "currency", "rub", True),
    ("/api/v1/orders/batch", "OrderIn", "currency", "R1B", False),
    ("/api/v1/orders/batch", "OrderIn", "total", "12.50", True),
    ("/api/v1/orders/batch", "OrderIn", "total", 12.5, True),
    ("/api/v1/orders/batch", "OrderIn", "total", "12.505", False),
    ("/api/v1/orders/batch", "OrderIn", "total", -1, False),
    ("/api/v1/events/batch", "EventIn", "properties", {"n": 2**53 - 1, "x": [1.5, None]}, True),
    ("/api/v1/events/batch", "EventIn", "properties", {"n": 2**53}, False),
    ("/api/v1/events/batch", "EventIn", "properties", {"n": [1e20]}, False),
    ("/api/v1/events/batch", "EventIn", "properties", {"a\u0000b": 1}, False),
]
ITEMS = {
    "CustomerIn": {"external_id": "c1"},
    "EventIn": {
        "event_id": "e1",
        "customer_external_id": "c1",
        "name": "viewed",
        "occurred_at": "2026-11-30T12:00:00Z",
    },
    "OrderIn": {
        "external_id": "o1",
        "customer_external_id": "c1",
        "placed_at": "2026-11-30T12:00:00Z",
        "total": "10.00",
        "currency": "RUB",
    },
}


@pytest.mark.parametrize(("endpoint", "component", "field", "value", "valid"), FORMATS)
def test_a_value_the_schema_calls_valid_is_accepted_and_one_it_calls_invalid_is_refused(
    schema, api, endpoint, component, field, value, valid
):
    validator = Draft202012Validator(
        {**schema["components"]["schemas"][component], "components": schema["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    item = {**ITEMS[component], field: value}
    assert validator.is_valid(item) is valid
    response = api.post(endpoint, {"items": [item]})
    if valid:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == [field]


MESSAGES = [
    ({"channel": "sms", "body": "Hi"}, True),
    ({"channel": "sms", "html": "<p>Hi</p>"}, True),
    ({"channel": "whatsapp", "payload": {"template": {"name": "hello"}}}, True),
    ({"channel": "email", "subject": "News", "body": "Hi"}, True),
    ({"channel": "sms"}, False),
    ({"channel": "sms", "body": ""}, False),
    ({"channel": "whatsapp", "payload": {"template": {}}}, False),
    ({"channel": "email", "body": "Hi"}, False),
]


@pytest.mark.parametrize(("content", "valid"), MESSAGES)
def test_the_schema_of_a_message_says_which_content_it_needs(schema, api, content, valid):
    CustomerFactory(external_id="c1")
    validator = Draft202012Validator(
        {**schema["components"]["schemas"]["MessageInRequest"], "components": schema["components"]}
    )
    message = {"customer": "c1", "category": "transactional", **content}
    assert validator.is_valid(message) is valid
    response = api.post("/api/v1/messages", message)
    assert (response.status_code == 202) is valid, response.json()


P256DH = "B" + "A" * 86  # 65 bytes, the first 0x04, base64url without padding
AUTH = "A" * 22  # 16 bytes
PUSH_SUBSCRIPTIONS = [
    (
        {
            "kind": "web",
            "endpoint": "https://push.example/s/1",
            "keys": {"p256dh": P256DH, "auth": AUTH},
        },
        True,
    ),
    ({"kind": "fcm", "token": "fcm-token-1"}, True),
    ({"kind": "web", "keys": {"p256dh": P256DH, "auth": AUTH}}, False),
    ({"kind": "web", "endpoint": "https://push.example/s/2"}, False),
    (
        {
            "kind": "web",
            "endpoint": "ftp://push.example/s/3",
            "keys": {"p256dh": P256DH, "auth": AUTH},
        },
        False,
    ),
    ({"kind": "fcm"}, False),
    ({"kind": "fcm", "token": "t", "endpoint": "https://push.example/s/4"}, False),
]


@pytest.mark.parametrize(("subscription", "valid"), PUSH_SUBSCRIPTIONS)
def test_the_schema_of_a_push_subscription_says_what_each_kind_needs(
    schema, api, subscription, valid
):
    CustomerFactory(external_id="c1")
    validator = Draft202012Validator(
        {
            **schema["components"]["schemas"]["PushSubscriptionInRequest"],
            "components": schema["components"],
        }
    )
    assert validator.is_valid(subscription) is valid
    response = api.post("/api/v1/customers/c1/push-subscriptions", subscription)
    assert (response.status_code in (200, 201)) is valid, response.json()
