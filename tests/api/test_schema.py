import pytest
import yaml

pytestmark = pytest.mark.django_db

ENDPOINTS = {
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
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/")
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
