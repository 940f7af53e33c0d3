"""API v1 for templates: scopes, strict errors with lines, versions, render, preview, idempotency."""

import pytest

from campaigns.message_templates.models import Template
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Welcome",
    "category": "marketing",
    "variants": {
        "email": {"subject": "Hi {{ customer.first_name }}", "html": "<p>Hello</p>"},
        "sms": {"body": "Code {{ promo_code.code | default: '' }}"},
    },
}


def create(api, body=BODY, **headers):
    return api.post("/api/v1/templates", body, format="json", **headers)


def test_create_get_list_and_versions(api):
    response = create(api)
    assert response.status_code == 201, response.content
    template_id = response.json()["id"]
    assert response.json()["version"]["number"] == 1
    assert api.get(f"/api/v1/templates/{template_id}").json()["name"] == "Welcome"
    assert [t["id"] for t in api.get("/api/v1/templates").json()["results"]] == [template_id]
    patch = api.patch(
        f"/api/v1/templates/{template_id}",
        {"variants": {"sms": {"body": "New"}}},
        format="json",
    )
    assert patch.status_code == 200 and patch.json()["version"]["number"] == 2
    versions = api.get(f"/api/v1/templates/{template_id}/versions").json()["results"]
    assert [v["number"] for v in versions] == [2, 1]


def test_an_unknown_variable_is_a_400_naming_the_variant_and_line(api):
    body = {**BODY, "variants": {"sms": {"body": "a\n{{ customer.nick }}"}}}
    response = create(api, body)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "variants.sms.body" and error["message"].startswith("line 2:")
    assert not Template.objects.exists()


def test_bad_shapes_are_400(api):
    assert create(api, {**BODY, "variants": {"fax": {"body": "x"}}}).status_code == 400
    assert create(api, {**BODY, "category": "spam"}).status_code == 400
    assert create(api, {**BODY, "variants": {}}).status_code == 400


def test_read_key_reads_and_renders_but_cannot_write(api, read_api):
    template_id = create(api).json()["id"]
    CustomerFactory(external_id="c-1", first_name="Ann")
    assert read_api.get(f"/api/v1/templates/{template_id}").status_code == 200
    assert create(read_api).status_code == 403
    patch = read_api.patch(f"/api/v1/templates/{template_id}", {"name": "x"}, format="json")
    assert patch.status_code == 403
    rendered = read_api.post(
        f"/api/v1/templates/{template_id}/render",
        {"external_id": "c-1", "channel": "email"},
        format="json",
    )
    assert rendered.status_code == 200
    assert rendered.json()["subject"] == "Hi Ann" and rendered.json()["version"] == 1


def test_render_a_missing_value_is_422_and_unknown_customer_404(api):
    template_id = create(api).json()["id"]
    CustomerFactory(external_id="c-2", first_name="")
    url = f"/api/v1/templates/{template_id}/render"
    response = api.post(url, {"external_id": "c-2", "channel": "email"}, format="json")
    assert response.status_code == 422 and response.json()["code"] == "missing_value"
    response = api.post(url, {"external_id": "nobody", "channel": "email"}, format="json")
    assert response.status_code == 404
    response = api.post(url, {"external_id": "c-2", "channel": "viber"}, format="json")
    assert response.status_code == 400


def test_preview_renders_unsaved_variants(api):
    CustomerFactory(external_id="c-3", first_name="Олег")
    body = {
        "external_id": "c-3",
        "channel": "telegram",
        "variants": {"telegram": {"title": "Hi", "body": "{{ customer.first_name }}"}},
    }
    response = api.post("/api/v1/templates/preview", body, format="json")
    assert response.status_code == 200 and response.json()["body"] == "Hi\n\nОлег"


def test_create_with_an_idempotency_key_happens_once(api):
    first = create(api, HTTP_IDEMPOTENCY_KEY="k-1")
    second = create(api, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Template.objects.count() == 1


def test_patch_archives_and_the_list_hides_archived(api):
    template_id = create(api).json()["id"]
    response = api.patch(f"/api/v1/templates/{template_id}", {"archived": True}, format="json")
    assert response.status_code == 200 and response.json()["archived"] is True
    assert response.json()["version"]["number"] == 1  # no content change, no new version
    assert api.get("/api/v1/templates").json()["results"] == []
    assert len(api.get("/api/v1/templates?archived=1").json()["results"]) == 1
    assert api.get("/api/v1/templates/999999").status_code == 404
