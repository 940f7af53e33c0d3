"""Canned responses (/app/inbox/canned/): who manages them, create, edit, delete with audit,
form errors, and how agents insert them."""

import pytest
from django.contrib.auth.models import Permission

from api.models import AuditEntry
from channels.models import CannedResponse
from channels.services.inbound import inbound_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def canned(db):
    return CannedResponse.objects.create(shortcode="thanks", body="Спасибо!")


PAGES = ["/app/inbox/canned/", "/app/inbox/canned/new/", "/app/inbox/canned/{pk}/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("support", 403), ("marketing", 403)])
def test_only_those_with_manage_canned_open_the_pages(client_as, canned, path, role, status):
    assert client_as(role).get(path.format(pk=canned.pk)).status_code == status


def test_a_support_lead_given_the_permission_manages_them(client, staff_user, canned):
    lead = staff_user("support")
    lead.user_permissions.add(Permission.objects.get(codename="manage_canned"))
    client.force_login(lead)
    assert client.get("/app/inbox/canned/").status_code == 200
    response = client.post("/app/inbox/canned/new/", {"shortcode": "hello", "body": "Здравствуйте"})
    assert response.status_code == 302
    assert CannedResponse.objects.get(shortcode="hello").created_by == lead


@pytest.mark.parametrize("role", ["support", "marketing"])
def test_others_cannot_change_or_delete_them(client_as, canned, role):
    client = client_as(role)
    assert client.post("/app/inbox/canned/new/", {"shortcode": "x", "body": "y"}).status_code == 403
    assert (
        client.post(f"/app/inbox/canned/{canned.pk}/", {"shortcode": "x", "body": "y"}).status_code
        == 403
    )
    assert client.post(f"/app/inbox/canned/{canned.pk}/delete/").status_code == 403
    canned.refresh_from_db()
    assert canned.shortcode == "thanks" and not AuditEntry.objects.exists()


def test_create_edit_and_delete_are_each_audited(client_as):
    client = client_as("admin")
    client.post("/app/inbox/canned/new/", {"shortcode": "eta", "body": "1–2 дня"})
    canned = CannedResponse.objects.get()
    client.post(f"/app/inbox/canned/{canned.pk}/", {"shortcode": "eta", "body": "2–3 дня"})
    canned.refresh_from_db()
    assert canned.body == "2–3 дня"
    response = client.post(f"/app/inbox/canned/{canned.pk}/delete/")
    assert response.status_code == 302 and not CannedResponse.objects.exists()
    entries = list(AuditEntry.objects.filter(object_type="canned_response").order_by("pk"))
    assert [(e.before, e.after) for e in entries] == [
        (None, {"shortcode": "eta", "body": "1–2 дня"}),
        ({"shortcode": "eta", "body": "1–2 дня"}, {"shortcode": "eta", "body": "2–3 дня"}),
        ({"shortcode": "eta", "body": "2–3 дня"}, None),
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"shortcode": "thanks", "body": "другое"}, "shortcode"),  # taken
        ({"shortcode": "two words", "body": "x"}, "shortcode"),
        ({"shortcode": "", "body": "x"}, "shortcode"),
        ({"shortcode": "ok", "body": ""}, "body"),
        ({"shortcode": "x" * 51, "body": "x"}, "shortcode"),
    ],
)
def test_a_bad_form_is_shown_again_with_its_error(client_as, canned, data, field):
    response = client_as("admin").post("/app/inbox/canned/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert CannedResponse.objects.count() == 1 and not AuditEntry.objects.exists()


def test_the_shortcode_taken_error_says_so(client_as, canned):
    response = client_as("admin").post(
        "/app/inbox/canned/new/", {"shortcode": "thanks", "body": "x"}
    )
    assert "already exists" in response.content.decode()


def test_an_unknown_canned_response_is_a_404(client_as):
    assert client_as("admin").get("/app/inbox/canned/999/").status_code == 404


def test_agents_get_canned_responses_in_the_reply_box_and_without_javascript(
    client_as, canned, reachable_customer
):
    customer = reachable_customer("sms")
    conversation = inbound_receive(
        channel="sms",
        provider="exolve",
        address=customer.phone,
        body="?",
        provider_message_id="c-1",
        payload={},
    ).conversation
    client = client_as("support")
    html = client.get(f"/app/inbox/{conversation.pk}/").content.decode()
    assert 'id="canned-data"' in html and '<option value="thanks">' in html
    # Without JavaScript the select reloads the page with the text in the reply box.
    html = client.get(f"/app/inbox/{conversation.pk}/", {"canned": "thanks"}).content.decode()
    assert ">Спасибо!</textarea>" in html
