import pytest

from customers.api import views

pytestmark = pytest.mark.django_db


def test_malformed_json_is_400_malformed_json(api):
    response = api.post(
        "/api/v1/customers/batch", data='{"items": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_a_body_that_is_not_json_is_415(api):
    response = api.post("/api/v1/customers/batch", data="external_id=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_body_larger_than_the_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    items = [{"external_id": f"c{i}", "first_name": "x" * 50} for i in range(50)]
    response = api.post("/api/v1/customers/batch", {"items": items})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.parametrize("path", ["customers/batch", "events/batch", "orders/batch"])
def test_more_than_1000_items_is_413_too_many_items(api, path):
    response = api.post(f"/api/v1/{path}", {"items": [{} for _ in range(1001)]})
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_items"


def test_a_body_that_is_not_an_object_is_a_validation_error(api):
    response = api.post("/api/v1/customers/batch", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "must be a JSON object"}]


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unexpected_error_is_a_json_500_not_a_page(api, monkeypatch):
    def broken_service(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(views.CustomerBatchView, "service", staticmethod(broken_service))
    response = api.post("/api/v1/customers/batch", {"items": [{"external_id": "c1"}]})
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "fell over" not in response.content.decode()
