"""API key scopes: read, write, messages:send and gdpr:erase; each view declares the one it needs
and a key without it gets 403 insufficient_scope naming it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from api.models import ApiKey
from api.services import api_key_create
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def client_with(*scopes: str) -> APIClient:
    _, raw_key = api_key_create(name="+".join(scopes), scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.default_format = "json"
    return client


def assert_refused_for_lack_of(response, scope: str) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert scope in body["message"]


def test_a_read_key_reads_and_previews_segments_but_writes_nothing():
    read = client_with("read")
    assert read.get("/api/v1/customers").status_code == 200
    preview = read.post(
        "/api/v1/segments/preview",
        {"rules": {"field": "first_name", "op": "equals", "value": "Anna"}},
    )
    assert preview.status_code == 200, preview.content
    assert_refused_for_lack_of(
        read.post("/api/v1/customers/batch", {"items": [{"external_id": "c1"}]}), "write"
    )
    assert_refused_for_lack_of(read.post("/api/v1/segments", {"name": "x"}), "write")
    assert not Customer.objects.exists()


def test_a_write_key_without_read_writes_but_cannot_read():
    write = client_with("write")
    response = write.post("/api/v1/customers/batch", {"items": [{"external_id": "c1"}]})
    assert response.status_code in (200, 201), response.content
    assert_refused_for_lack_of(write.get("/api/v1/customers"), "read")
    assert_refused_for_lack_of(write.get("/api/v1/customers/c1"), "read")


def test_sending_messages_and_replies_needs_messages_send():
    sync = client_with("read", "write")
    message = {"customer": "c1", "channel": "sms", "category": "transactional", "body": "Код 1"}
    assert_refused_for_lack_of(sync.post("/api/v1/messages", message), "messages:send")
    assert_refused_for_lack_of(
        sync.post("/api/v1/conversations/1/messages", {"body": "Здравствуйте"}), "messages:send"
    )


def test_a_messages_send_key_gets_past_the_scope_check_but_reads_nothing():
    sender = client_with("messages:send")
    message = {"customer": "nobody", "channel": "sms", "category": "transactional", "body": "Hi"}
    assert sender.post("/api/v1/messages", message).status_code == 404  # not 403
    assert sender.post("/api/v1/conversations/999/messages", {"body": "Hi"}).status_code == 404
    assert_refused_for_lack_of(sender.get("/api/v1/messages"), "read")


def test_erasing_a_customer_needs_gdpr_erase_even_with_read_and_write():
    CustomerFactory(external_id="c1")
    sync = client_with("read", "write", "messages:send")
    assert_refused_for_lack_of(sync.delete("/api/v1/customers/c1"), "gdpr:erase")
    assert Customer.objects.get(external_id="c1").erased_at is None
    assert client_with("gdpr:erase").delete("/api/v1/customers/c1").status_code == 204
    assert Customer.objects.get().erased_at is not None


def test_a_new_key_gets_read_write_and_messages_send_but_never_erase_by_default():
    api_key, _ = api_key_create(name="crm")
    assert api_key.scopes == ["read", "write", "messages:send"]


def test_scopes_are_checked_and_kept_in_one_order():
    api_key, _ = api_key_create(name="x", scopes=["gdpr:erase", "read", "read"])
    assert api_key.scopes == ["read", "gdpr:erase"]
    with pytest.raises(ValueError, match="'admin'"):
        api_key_create(name="x", scopes=["read", "admin"])
    with pytest.raises(ValueError, match="at least one"):
        api_key_create(name="x", scopes=[])


def test_create_api_key_takes_repeated_scopes():
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key", "erasure", "--scope", "read", "--scope", "gdpr:erase",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert ApiKey.objects.get(name="erasure").scopes == ["read", "gdpr:erase"]
    assert "read gdpr:erase" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("create_api_key", "bad", "--scope", "everything", stdout=out, stderr=err)


def test_the_admin_creates_a_key_with_the_ticked_scopes(admin_client):
    response = admin_client.post(
        "/admin/api/apikey/add/", {"name": "erasure", "scopes": ["read", "gdpr:erase"]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ApiKey.objects.get(name="erasure").scopes == ["read", "gdpr:erase"]
    form = admin_client.get("/admin/api/apikey/add/").content.decode()
    assert 'value="messages:send"' in form and 'value="gdpr:erase"' in form


def test_the_admin_changes_a_key_s_scopes_and_the_api_follows(admin_client):
    api_key, raw_key = api_key_create(name="crm")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    CustomerFactory(external_id="c1")
    assert_refused_for_lack_of(client.delete("/api/v1/customers/c1"), "gdpr:erase")
    response = admin_client.post(
        f"/admin/api/apikey/{api_key.pk}/change/",
        {"name": "crm", "scopes": ["read", "write", "messages:send", "gdpr:erase"]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.delete("/api/v1/customers/c1").status_code == 204


def test_the_schema_documents_every_scope(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    (scheme,) = schema["components"]["securitySchemes"].values()
    for scope in ("read", "write", "messages:send", "gdpr:erase"):
        assert f"`{scope}`" in scheme["description"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_what_existing_keys_could_do_except_erase():
    executor = MigrationExecutor(connection)
    executor.migrate([("api", "0001_initial")])
    old_apps = executor.loader.project_state([("api", "0001_initial")]).apps
    OldKey = old_apps.get_model("api", "ApiKey")
    OldKey.objects.create(name="sync", prefix="aaaa1111", key_hash="a" * 64, scope="write")
    OldKey.objects.create(name="report", prefix="bbbb2222", key_hash="b" * 64, scope="read")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert ApiKey.objects.get(name="sync").scopes == ["read", "write", "messages:send"]
    assert ApiKey.objects.get(name="report").scopes == ["read"]


def test_every_operation_documents_403_insufficient_scope_reads_included(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operations = [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert operations
    for method, path, operation in operations:
        assert "403" in operation["responses"], f"{method.upper()} {path}"
    listed = schema["paths"]["/api/v1/customers"]["get"]["responses"]["403"]
    assert listed["description"].startswith("insufficient_scope")
