"""The customer list and the customer page: header, timeline (filters, paging, polling), orders,
events, notes, audit; consent changes with a reason, notes, export and erase, per role."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import AuditAction, AuditEntry
from channels.models import Message, MessageStatusChange
from customers.models import Consent, ConsentChange, Customer, Note, RfmScore
from customers.timeline import customer_timeline, customer_timeline_since, timeline_head_cursor
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    EventFactory,
    OrderFactory,
    OrderItemFactory,
)

pytestmark = pytest.mark.django_db
ROLES = ["support", "marketing", "admin"]


@pytest.fixture
def anna():
    customer = CustomerFactory(
        external_id="crm-anna",
        first_name="Anna",
        last_name="Smirnova",
        phone="+79161234567",
        email="anna@example.com",
        locale="ru-RU",
        timezone="Asia/Yekaterinburg",
        lifecycle_stage="repeat_customer",
    )
    ConsentFactory(customer=customer, channel="sms", status="opted_in")
    return customer


def _message(customer, channel="sms", status="sent", minutes_ago=5, **fields):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    message = Message.objects.create(
        customer=customer,
        channel=channel,
        address=customer.phone if channel == "sms" else customer.email,
        body=fields.pop("body", "Your order is ready"),
        category="transactional",
        source="api",
        status=status,
        parts=1 if channel == "sms" else None,
        queued_at=at,
        **fields,
    )
    MessageStatusChange.objects.create(message=message, status=status, occurred_at=at)
    return message


# --- The list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_customer_list(client_as, anna, role):
    response = client_as(role).get("/app/customers/")
    assert response.status_code == 200
    assert "/app/customers/crm-anna/" in response.content.decode()


def test_the_list_pages_with_a_cursor_not_a_count(client_as):
    for n in range(55):
        CustomerFactory(created_at=timezone.now() - timedelta(minutes=n))
    client = client_as("support")
    first = client.get("/app/customers/")
    assert first.context["next_url"]
    assert len(first.context["rows"]) == 50
    second = client.get("/app/customers/" + first.context["next_url"])
    assert len(second.context["rows"]) == 5 and second.context["next_url"] is None
    assert not {c.pk for c in first.context["rows"]} & {c.pk for c in second.context["rows"]}


def test_the_list_filters_by_text(client_as, anna):
    CustomerFactory(first_name="Boris", last_name="Orlov", lifecycle_stage="lead")
    client = client_as("support")
    rows = client.get("/app/customers/", {"q": "Smirnova"}).context["rows"]
    assert rows == [anna]
    rows = client.get("/app/customers/", {"q": "+7 916 123-45-67"}).context["rows"]
    assert rows == [anna]


def test_a_bad_list_cursor_is_not_a_500(client_as):
    assert client_as("support").get("/app/customers/", {"cursor": "nonsense"}).status_code == 200


# --- The page ----------------------------------------------------------------------------------


def test_the_header_shows_who_and_where(client_as, anna):
    RfmScore.objects.create(
        customer=anna,
        recency_days=3,
        frequency=7,
        monetary=52000,
        r=5,
        f=4,
        m=5,
        segment="champions",
        as_of=timezone.now().date(),
        computed_at=timezone.now(),
    )
    response = client_as("support").get("/app/customers/crm-anna/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in [
        "Anna Smirnova",
        "+79161234567",
        "anna@example.com",
        "ru-RU",
        "Asia/Yekaterinburg",
    ]:
        assert text in body
    assert "Champions" in body and "R5 F4 M5" in body and "Repeat customer" in body
    assert response.context["local_time"].utcoffset() == timedelta(hours=5)


def test_an_unknown_customer_is_404(client_as):
    assert client_as("support").get("/app/customers/nobody/").status_code == 404


def test_the_timeline_merges_every_source_newest_first(client_as, anna):
    OrderItemFactory(order=OrderFactory(customer=anna, external_id="ORD-9"), name="Kettle")
    EventFactory(customer=anna, name="cart_viewed", properties={"items": 2})
    message = _message(anna, minutes_ago=1)
    body = client_as("support").get("/app/customers/crm-anna/").content.decode()
    assert body.index(f"entry-message-{message.pk}") < body.index("Order ORD-9")
    assert "cart_viewed" in body and "Kettle" in body
    assert "1 SMS part" in body  # the bubble says its parts


def test_an_email_entry_shows_its_html_in_a_sandboxed_frame(client_as, anna):
    message = _message(anna, channel="email", subject="Welcome", html="<p>Hi</p>")
    body = client_as("support").get("/app/customers/crm-anna/").content.decode()
    assert f'<iframe class="email-frame" sandbox src="/app/messages/{message.pk}/body/"' in body


def test_the_timeline_filters_by_kind_and_channel(client_as, anna):
    sms = _message(anna, channel="sms")
    email = _message(anna, channel="email", subject="Hello")
    EventFactory(customer=anna, name="login")
    client = client_as("support")
    rows = client.get("/app/customers/crm-anna/", {"channel": "email"}).context["rows"]
    assert [r.entry.id for r in rows] == [email.pk]
    rows = client.get("/app/customers/crm-anna/", {"kind": "event"}).context["rows"]
    assert [r.entry.kind for r in rows] == ["event"]
    rows = client.get("/app/customers/crm-anna/", {"kind": "message", "channel": "sms"})
    assert [r.entry.id for r in rows.context["rows"]] == [sms.pk]


def test_the_timeline_scrolls_with_show_more(client_as, anna):
    for n in range(30):
        EventFactory(customer=anna, occurred_at=timezone.now() - timedelta(hours=n))
    client = client_as("support")
    page = client.get("/app/customers/crm-anna/")
    next_url = page.context["next_url"]
    assert next_url and 'hx-trigger="revealed"' in page.content.decode()
    more = client.get("/app/customers/crm-anna/" + next_url, HTTP_HX_REQUEST="true")
    assert "<html" not in more.content.decode()
    assert len(more.context["rows"]) == 5
    # Without JavaScript the same link is a full page.
    assert "<html" in client.get("/app/customers/crm-anna/" + next_url).content.decode()


def test_the_head_poll_brings_only_newer_entries(client_as, anna):
    old = _message(anna, minutes_ago=10)
    head = timeline_head_cursor(customer_timeline(anna.pk).entries, timezone.now())
    assert customer_timeline_since(anna.pk, cursor=head).entries == []
    new = _message(anna, minutes_ago=0)
    response = client_as("support").get(
        "/app/customers/crm-anna/since", {"cursor": head}, HTTP_HX_REQUEST="true"
    )
    assert [r.entry.id for r in response.context["rows"]] == [new.pk]
    assert old.pk != new.pk
    assert 'id="timeline-head"' in response.content.decode()


def test_an_empty_timeline_polls_from_now(client_as, anna):
    page = client_as("support").get("/app/customers/crm-anna/")
    assert 'id="timeline-head"' in page.content.decode() and page.context["rows"] == []


def test_a_message_polls_its_status_until_final(client_as, anna):
    message = _message(anna, status="queued", minutes_ago=0)
    client = client_as("support")
    url = f"/app/customers/crm-anna/messages/{message.pk}/"
    assert f'hx-get="{url}"' in client.get("/app/customers/crm-anna/").content.decode()
    Message.objects.filter(pk=message.pk).update(status="failed")
    MessageStatusChange.objects.create(message=message, status="failed", reason="no route")
    body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in body.split("</span>")[0]  # final: it stops asking
    assert 'hx-swap-oob="true"' in body and "no route" in body


@pytest.mark.parametrize("tab", ["orders", "events", "notes", "audit"])
@pytest.mark.parametrize("role", ROLES)
def test_every_tab_opens_for_every_role(client_as, anna, tab, role):
    OrderItemFactory(order=OrderFactory(customer=anna))
    EventFactory(customer=anna, properties={"page": "/cart"})
    assert client_as(role).get("/app/customers/crm-anna/", {"tab": tab}).status_code == 200


# --- Consent ----------------------------------------------------------------------------------


def test_support_changes_consent_with_a_reason_and_it_is_audited(client_as, anna):
    client = client_as("support")
    response = client.post(
        "/app/customers/crm-anna/consent",
        {"channel": "sms", "status": "opted_out", "reason": "asked on the phone"},
    )
    assert response.status_code == 302
    assert Consent.objects.get(customer=anna, channel="sms").status == "opted_out"
    assert ConsentChange.objects.filter(customer=anna, status="opted_out").exists()
    entry = AuditEntry.objects.get(action=AuditAction.CONSENT_CHANGED)
    assert entry.customer_id == anna.pk and entry.reason == "asked on the phone"
    assert entry.before == {"channel": "sms", "status": "opted_in"}
    assert entry.after == {"channel": "sms", "status": "opted_out"}
    audit = client.get("/app/customers/crm-anna/", {"tab": "audit"}).content.decode()
    assert "asked on the phone" in audit


def test_a_consent_change_without_a_reason_is_refused(client_as, anna):
    response = client_as("support").post(
        "/app/customers/crm-anna/consent", {"channel": "sms", "status": "opted_out", "reason": " "}
    )
    assert response.status_code == 302
    assert Consent.objects.get(customer=anna, channel="sms").status == "opted_in"
    assert not AuditEntry.objects.exists()


def test_bad_consent_input_is_not_a_500(client_as, anna):
    client = client_as("support")
    for data in [{}, {"channel": "fax", "status": "opted_in", "reason": "x"}]:
        assert client.post("/app/customers/crm-anna/consent", data).status_code == 302
    assert not AuditEntry.objects.exists()


def test_marketing_cannot_change_consent_nor_sees_the_control(client_as, anna):
    client = client_as("marketing")
    assert "/consent" not in client.get("/app/customers/crm-anna/").content.decode()
    response = client.post(
        "/app/customers/crm-anna/consent",
        {"channel": "sms", "status": "opted_out", "reason": "x"},
    )
    assert response.status_code == 403


# --- Notes, export, erase --------------------------------------------------------------------


def test_support_adds_a_note_audited(client_as, anna):
    client = client_as("support")
    response = client.post("/app/customers/crm-anna/notes", {"body": "Prefers calls after 6 pm"})
    assert response.status_code == 302
    note = Note.objects.get(customer=anna)
    assert note.body == "Prefers calls after 6 pm"
    assert AuditEntry.objects.get(action=AuditAction.NOTE_ADDED).object_id == str(note.pk)
    page = client.get("/app/customers/crm-anna/", {"tab": "notes"}).content.decode()
    assert "Prefers calls after 6 pm" in page


def test_an_empty_note_is_a_message_not_a_row(client_as, anna):
    client_as("support").post("/app/customers/crm-anna/notes", {"body": "  "})
    assert not Note.objects.exists()


def test_marketing_cannot_add_notes(client_as, anna):
    client = client_as("marketing")
    assert (
        'name="body"'
        not in client.get("/app/customers/crm-anna/", {"tab": "notes"}).content.decode()
    )
    assert client.post("/app/customers/crm-anna/notes", {"body": "x"}).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_export_downloads_the_json_and_is_audited(client_as, anna, role):
    OrderFactory(customer=anna, external_id="ORD-5")
    response = client_as(role).post("/app/customers/crm-anna/export")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customer-crm-anna.json"'
    data = json.loads(response.content)
    assert data["profile"]["external_id"] == "crm-anna"
    assert data["orders"][0]["external_id"] == "ORD-5"
    assert AuditEntry.objects.filter(action=AuditAction.CUSTOMER_EXPORTED).count() == 1


def test_export_is_a_post(client_as, anna):
    assert client_as("support").get("/app/customers/crm-anna/export").status_code == 405


def test_admin_erases_after_typing_the_id(client_as, anna):
    client = client_as("admin")
    assert "Erase personal data" in client.get("/app/customers/crm-anna/").content.decode()
    refused = client.post("/app/customers/crm-anna/erase", {"confirm": "crm-ann"})
    assert refused.status_code == 302
    assert Customer.objects.get(pk=anna.pk).erased_at is None
    response = client.post(
        "/app/customers/crm-anna/erase", {"confirm": "crm-anna", "reason": "GDPR"}
    )
    assert response.status_code == 302 and response["Location"] == "/app/customers/"
    anna.refresh_from_db()
    assert anna.erased_at is not None and anna.first_name == ""
    entry = AuditEntry.objects.get(action=AuditAction.CUSTOMER_ERASED)
    assert entry.customer_id == anna.pk and "Anna" not in json.dumps(entry.after)


@pytest.mark.parametrize("role", ["support", "marketing"])
def test_only_admins_may_erase(client_as, anna, role):
    client = client_as(role)
    assert "Erase personal data" not in client.get("/app/customers/crm-anna/").content.decode()
    response = client.post("/app/customers/crm-anna/erase", {"confirm": "crm-anna"})
    assert response.status_code == 403
    assert Customer.objects.get(pk=anna.pk).erased_at is None


def test_staff_without_view_customers_get_403(client, django_user_model, anna):
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    for url in ["/app/customers/", "/app/customers/crm-anna/", "/app/customers/crm-anna/since"]:
        assert client.get(url).status_code == 403


def test_the_status_follows_queued_sent_delivered(client_as, anna):
    message = _message(anna, status="queued", minutes_ago=0)
    client = client_as("support")
    url = f"/app/customers/crm-anna/messages/{message.pk}/"
    seen = []
    for status in ["queued", "sent", "delivered"]:
        Message.objects.filter(pk=message.pk).update(status=status)
        if status != "queued":
            MessageStatusChange.objects.create(message=message, status=status)
        body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        pill = body.split("</span></span>")[0]
        seen.append((status in pill, "hx-get" in pill))
    # queued and sent keep asking; delivered is where the page stops polling.
    assert seen == [(True, True), (True, True), (True, False)]


@pytest.mark.django_db(transaction=True)
def test_search_and_the_customer_page_work_without_javascript(browser, live_server, staff_user):
    customer = CustomerFactory(external_id="crm-nojs", first_name="Nina", last_name="Orlova")
    for n in range(30):
        EventFactory(
            customer=customer, name=f"visit_{n}", occurred_at=timezone.now() - timedelta(hours=n)
        )
    user = staff_user("support")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/app/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-Kaskad-2026")
    page.click("button[type=submit]")
    page.fill("#global-q", "Orlova")
    page.press("#global-q", "Enter")
    page.click("text=Nina Orlova")
    page.wait_for_url(f"{live_server.url}/app/customers/crm-nojs/")
    assert page.locator(".entry").count() == 25
    page.click(".timeline-more a")
    assert "visit_29" in page.content()
    page.select_option("#tl-kind", "event")
    page.click(".timeline-filters button[type=submit]")
    assert "kind=event" in page.url
    context.close()
