"""The composer on the customer page: which channels it offers (consent, address, the WhatsApp
24-hour window and templates), the send through message_send, the audit, and who may send."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import AuditAction, AuditEntry
from channels.models import InboundMessage, Message, SandboxMessage
from channels.services.reachability import (
    SendRefused,
    agent_message_send,
    customer_reachable_channels,
)
from tests.factories import ChannelIdentityFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db
TEMPLATES = [{"name": "order_ready", "language": "ru", "params": ["name", "order"]}]


@pytest.fixture
def enqueued(monkeypatch):
    """Stands in for the broker: records (ids, countdown) of every enqueued chunk."""
    calls = []
    monkeypatch.setattr(
        "channels.services.messages.messages_enqueue",
        lambda ids, countdown=None: calls.append((list(ids), countdown)),
    )
    return calls


@pytest.fixture
def anna():
    return CustomerFactory(external_id="crm-anna", phone="+79161234567", email="anna@example.com")


def _reach(customer):
    return {r.channel: r for r in customer_reachable_channels(customer)}


def _inbound_whatsapp(customer, hours_ago):
    return InboundMessage.objects.create(
        customer=customer,
        channel="whatsapp",
        provider="whatsapp",
        address=customer.phone,
        body="hi",
        provider_message_id=f"wa-{hours_ago}",
        received_at=timezone.now() - timedelta(hours=hours_ago),
    )


def test_sms_and_email_are_reachable_with_an_address_and_no_opt_out(anna):
    reach = _reach(anna)
    assert reach["sms"].reachable and reach["sms"].address == "+79161234567"
    assert reach["email"].reachable
    assert not reach["telegram"].reachable and reach["telegram"].why_not == "no_address"


def test_an_opt_out_closes_the_channel(anna):
    ConsentFactory(customer=anna, channel="sms", status="opted_out")
    reach = _reach(anna)
    assert not reach["sms"].reachable and reach["sms"].why_not == "opted_out"


def test_a_telegram_identity_opens_telegram(anna):
    ChannelIdentityFactory(customer=anna, channel="telegram", address="123456789")
    assert _reach(anna)["telegram"].reachable


def test_whatsapp_needs_an_opt_in(anna):
    _inbound_whatsapp(anna, hours_ago=1)
    assert _reach(anna)["whatsapp"].why_not == "needs_opt_in"


def test_whatsapp_inside_the_24_hour_window_takes_free_text(anna):
    ConsentFactory(customer=anna, channel="whatsapp", status="opted_in")
    inbound = _inbound_whatsapp(anna, hours_ago=23)
    reach = _reach(anna)["whatsapp"]
    assert reach.reachable and not reach.templates_only
    assert reach.window_ends_at == inbound.received_at + timedelta(hours=24)


def test_whatsapp_outside_the_window_without_templates_is_closed(anna, settings):
    settings.WHATSAPP_TEMPLATES = []
    ConsentFactory(customer=anna, channel="whatsapp", status="opted_in")
    _inbound_whatsapp(anna, hours_ago=25)
    reach = _reach(anna)["whatsapp"]
    assert not reach.reachable and reach.why_not == "no_templates"


def test_whatsapp_outside_the_window_offers_only_templates(anna, settings, client_as):
    settings.WHATSAPP_TEMPLATES = TEMPLATES
    ConsentFactory(customer=anna, channel="whatsapp", status="opted_in")
    reach = _reach(anna)["whatsapp"]
    assert reach.reachable and reach.templates_only and reach.templates[0]["name"] == "order_ready"
    support = client_as("support")
    user = support.get("/app/customers/crm-anna/").wsgi_request.user
    with pytest.raises(SendRefused) as refused:
        agent_message_send(customer=anna, channel="whatsapp", body="free text", actor=user)
    assert refused.value.code == "template_required"
    with pytest.raises(SendRefused):
        agent_message_send(
            customer=anna,
            channel="whatsapp",
            template="order_ready",
            template_params=["Anna"],
            actor=user,
        )
    message = agent_message_send(
        customer=anna,
        channel="whatsapp",
        template="order_ready",
        template_params=["Anna", "ORD-1"],
        actor=user,
    )
    assert message.payload["template"] == {
        "name": "order_ready",
        "language": "ru",
        "params": ["Anna", "ORD-1"],
    }
    assert message.status == "queued"


def test_the_page_says_when_no_templates_are_configured(anna, settings, client_as):
    settings.WHATSAPP_TEMPLATES = []
    ConsentFactory(customer=anna, channel="whatsapp", status="opted_in")
    body = client_as("support").get("/app/customers/crm-anna/").content.decode()
    assert "no approved templates are configured" in body


def test_the_composer_offers_only_reachable_channels(anna, client_as):
    ConsentFactory(customer=anna, channel="email", status="opted_out")
    body = client_as("support").get("/app/customers/crm-anna/").content.decode()
    options = body.split('id="composer-channel"')[1].split("</select>")[0]
    assert 'value="sms"' in options and 'value="email"' not in options
    assert 'data-sms-counter="composer-count"' in body


def test_sending_from_the_page_goes_through_message_send_and_is_audited(
    anna, client_as, enqueued, django_capture_on_commit_callbacks
):
    client = client_as("support")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/app/customers/crm-anna/send",
            {"channel": "sms", "body": "Your order is ready"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    message = Message.objects.get()
    assert (message.channel, message.category, message.source) == ("sms", "transactional", "agent")
    assert message.body == "Your order is ready" and message.parts == 1
    entry = AuditEntry.objects.get(action=AuditAction.MESSAGE_SENT)
    assert entry.customer_id == anna.pk and entry.object_id == str(message.pk)
    assert enqueued == [([message.pk], None)]


def test_without_javascript_the_send_redirects_back(anna, client_as, enqueued):
    response = client_as("support").post(
        "/app/customers/crm-anna/send", {"channel": "sms", "body": "Hi"}
    )
    assert response.status_code == 302 and response["Location"] == "/app/customers/crm-anna/"
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "sms", "body": ""},
        {"channel": "email", "body": "no subject"},
        {"channel": "telegram", "body": "no address"},
        {"channel": "fax", "body": "x"},
        {},
    ],
)
def test_bad_sends_are_form_errors(anna, client_as, data):
    response = client_as("support").post(
        "/app/customers/crm-anna/send", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.content.decode()
    assert not Message.objects.exists() and not AuditEntry.objects.exists()


def test_the_sandbox_sends_it_eagerly(
    anna, client_as, settings, eager_celery, django_capture_on_commit_callbacks
):
    from channels.providers import reset_providers

    settings.MESSAGING_SANDBOX = True
    reset_providers()
    client = client_as("support")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/app/customers/crm-anna/send", {"channel": "sms", "body": "Hi"})
    message = Message.objects.get()
    assert message.status == "sent"
    assert SandboxMessage.objects.get().message == message
    reset_providers()


@pytest.mark.parametrize("role", ["marketing"])
def test_roles_without_reply_see_no_composer_and_get_403(anna, client_as, role):
    client = client_as(role)
    assert 'id="composer"' not in client.get("/app/customers/crm-anna/").content.decode()
    response = client.post("/app/customers/crm-anna/send", {"channel": "sms", "body": "Hi"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_admin_may_send(anna, client_as, enqueued):
    client = client_as("admin")
    assert 'id="composer"' in client.get("/app/customers/crm-anna/").content.decode()
    client.post("/app/customers/crm-anna/send", {"channel": "sms", "body": "Hi"})
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_support_finds_by_a_local_phone_replies_by_sms_and_sees_it_sent(
    signed_in_page, live_server, settings, eager_celery
):
    """Issue 10, the support agent's job end to end, in Chromium against the sandbox."""
    from channels.providers import reset_providers

    settings.MESSAGING_SANDBOX = True
    reset_providers()
    CustomerFactory(
        external_id="crm-vera",
        first_name="Вера",
        last_name="Соколова",
        phone="+79123456789",
        email="vera@example.com",
    )
    page = signed_in_page("support")
    page.fill("#global-q", "8 (912) 345-67-89")
    page.press("#global-q", "Enter")
    page.wait_for_url(f"{live_server.url}/app/customers/crm-vera/")
    assert page.locator("h1").inner_text() == "Вера Соколова"
    page.select_option("#composer-channel", "sms")
    page.fill("#composer-body", "Ваш заказ готов")
    assert "1 SMS part" in page.locator("#composer-count").inner_text()
    page.click("#composer button[type=submit]")
    page.wait_for_selector("#composer .flash-success")
    entry = page.locator("#timeline-rows .entry-message").first
    entry.wait_for(timeout=4000)  # the head poll brings it within 2 s, no reload
    entry.locator(".entry-status .pill", has_text="sent").wait_for(timeout=4000)
    entry.locator("summary").click()
    assert "Ваш заказ готов" in entry.locator(".bubble").inner_text()
    message = Message.objects.get()
    assert message.status == "sent" and SandboxMessage.objects.get().body == "Ваш заказ готов"
    reset_providers()
