"""Template pages: roles, the editor's save errors and versions, the live preview, the email
preview's own policy, test sends and archiving."""

import pytest
from django.urls import reverse

from api.models import AuditEntry
from campaigns.message_templates.models import Template
from campaigns.message_templates.services import template_create
from channels.models import Message
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

POST = {
    "name": "Welcome",
    "category": "marketing",
    "email_subject": "Hi {{ customer.first_name }}",
    "email_html": "<p style='color:red'>Hello {{ customer.first_name | default: 'friend' }}</p>",
    "sms_body": "Hi {{ customer.first_name | default: '' }}",
}


def make():
    return template_create(
        name="Welcome",
        category="marketing",
        variants={"email": {"subject": "Hi {{ customer.first_name }}", "html": "<p>x</p>"}},
    )


@pytest.mark.parametrize("role,status", [("marketing", 200), ("admin", 200), ("support", 403)])
def test_list_and_editor_by_role(client_as, role, status):
    template = make()
    client = client_as(role)
    assert client.get(reverse("campaigns:templates")).status_code == status
    assert client.get(reverse("campaigns:template_edit", args=[template.pk])).status_code == status
    assert client.get(reverse("campaigns:template_new")).status_code == status
    response = client.post(reverse("campaigns:template_new"), POST)
    assert response.status_code == (302 if status == 200 else 403)


def test_the_hub_links_to_templates(client_as):
    response = client_as("marketing").get(reverse("campaigns:index"))
    assert reverse("campaigns:templates") in response.content.decode()


def test_saving_creates_then_adds_versions_and_audits(client_as):
    client = client_as("marketing")
    response = client.post(reverse("campaigns:template_new"), POST)
    template = Template.objects.get()
    assert response.url == reverse("campaigns:template_edit", args=[template.pk])
    client.post(reverse("campaigns:template_edit", args=[template.pk]), {**POST, "sms_body": "x"})
    template.refresh_from_db()
    assert template.current_version.number == 2
    assert template.current_version.variants["sms"] == {"body": "x"}
    assert AuditEntry.objects.filter(action__startswith="template.").count() == 2
    page = client.get(reverse("campaigns:template_edit", args=[template.pk])).content.decode()
    assert "v2" in page and "v1" in page


def test_a_bad_template_is_a_form_error_with_its_line(client_as):
    client = client_as("admin")
    response = client.post(
        reverse("campaigns:template_new"),
        {**POST, "email_html": "<p>\n{{ customer.nick }}</p>"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "email.html" in page and "line 2" in page and "customer.nick" in page
    assert not Template.objects.exists()


def test_preview_renders_for_a_searched_customer(client_as):
    customer = CustomerFactory(first_name="Марина", email="marina@example.com")
    client = client_as("marketing")
    url = reverse("campaigns:template_preview")
    sms = client.post(url, {**POST, "preview_channel": "sms", "customer_q": "marina@example.com"})
    body = sms.content.decode()
    assert "Hi Марина" in body and "UCS-2" in body
    email = client.post(url, {**POST, "preview_channel": "email", "customer_id": customer.pk})
    body = email.content.decode()
    assert "Hi Марина" in body and "<iframe" in body and "sandbox" in body
    token = body.split("/campaigns/templates/preview/")[1].split("/")[0]
    frame = client.get(reverse("campaigns:template_preview_email", args=[token]))
    assert frame.status_code == 200
    assert "style='color:red'" in frame.content.decode()
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]


def test_preview_warns_of_a_missing_value_and_shows_problems(client_as):
    customer = CustomerFactory(first_name="")
    client = client_as("marketing")
    url = reverse("campaigns:template_preview")
    page = client.post(url, {**POST, "customer_id": customer.pk}).content.decode()
    assert "missing-warning" in page and "customer.first_name" in page
    page = client.post(url, {**POST, "sms_body": "{{ x | nope }}"}).content.decode()
    assert "nope" in page and "sms.body" in page


def test_another_staff_member_cannot_read_a_preview(client_as, staff_user, client):
    customer = CustomerFactory(first_name="A")
    first = client_as("marketing")
    body = first.post(
        reverse("campaigns:template_preview"), {**POST, "customer_id": customer.pk}
    ).content.decode()
    token = body.split("/campaigns/templates/preview/")[1].split("/")[0]
    client.force_login(staff_user("admin"))
    assert client.get(reverse("campaigns:template_preview_email", args=[token])).status_code == 404


def test_test_send_goes_to_the_typed_address(client_as, monkeypatch):
    monkeypatch.setattr(
        "channels.services.messages.messages_enqueue", lambda ids, countdown=None: None
    )
    template = make()
    customer = CustomerFactory(first_name="Ivan")
    client = client_as("marketing")
    response = client.post(
        reverse("campaigns:template_test_send", args=[template.pk]),
        {"preview_channel": "email", "customer_id": customer.pk, "test_address": "qa@example.com"},
    )
    assert response.status_code == 302
    message = Message.objects.get(address="qa@example.com")
    assert message.subject == "Hi Ivan" and message.html == "<p>x</p>"
    assert AuditEntry.objects.filter(action="template.test_send").exists()


def test_archive_hides_from_the_list(client_as):
    template = make()
    client = client_as("marketing")
    client.post(reverse("campaigns:template_archive", args=[template.pk]))
    page = client.get(reverse("campaigns:templates")).content.decode()
    assert "Welcome" not in page
    assert "Welcome" in client.get(reverse("campaigns:templates") + "?archived=1").content.decode()


def test_the_list_pages_with_a_cursor(client_as):
    for i in range(52):
        template_create(name=f"T{i:02}", category="marketing", variants={"sms": {"body": "x"}})
    client = client_as("marketing")
    first = client.get(reverse("campaigns:templates"))
    page = first.content.decode()
    assert "T51" in page and "T01" not in page
    next_url = first.context["next_url"]
    assert next_url
    second = client.get(reverse("campaigns:templates") + next_url).content.decode()
    assert "T01" in second and "T00" in second and "T51" not in second
    assert client.get(reverse("campaigns:templates") + "?after=junk").status_code == 200


def test_the_sms_preview_shows_its_cost_at_the_configured_price(client_as):
    from decimal import Decimal

    from channels.models import DeliverySettings
    from channels.services.policy import forget_delivery_settings

    CustomerFactory(first_name="Марина", email="marina@example.com")
    client = client_as("marketing")
    url = reverse("campaigns:template_preview")
    post = {**POST, "preview_channel": "sms", "customer_q": "marina@example.com"}
    forget_delivery_settings()
    assert "Settings → Delivery" in client.post(url, post).content.decode()
    DeliverySettings.objects.update_or_create(
        pk=DeliverySettings.objects.order_by("pk").values_list("pk", flat=True).first(),
        defaults={"sms_part_price": Decimal("3.25"), "sms_price_currency": "RUB"},
    )
    forget_delivery_settings()
    body = client.post(url, post).content.decode()
    parts = int(body.split(" part")[0].rsplit(">", 1)[-1].strip())
    assert f"costs {Decimal('3.25') * parts:.2f} RUB" in body
    forget_delivery_settings()
