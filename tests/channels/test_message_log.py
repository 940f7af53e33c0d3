"""The message log (/app/messages/), one message's page and the sandbox outbox."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.message_log import PAGE_SIZE, cursor_decode, cursor_encode
from channels.models import Message, MessageStatusChange, SandboxMessage, TrackedLink
from tests.factories import CustomerFactory
from workspace.models import StaffProfile

pytestmark = pytest.mark.django_db

LOG = reverse("channels:messages")


def _message(customer=None, **fields):
    defaults = {
        "channel": "sms",
        "address": "+79161234567",
        "body": "Your order has shipped",
        "category": "transactional",
        "source": "api",
    }
    return Message.objects.create(customer=customer or CustomerFactory(), **{**defaults, **fields})


def _ids(response) -> list[int]:
    return [m.pk for m in response.context["rows"]]


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "marketing", "admin"])
@pytest.mark.parametrize("name", ["channels:messages", "channels:sandbox"])
def test_every_role_sees_the_log_and_the_sandbox(client_as, role, name):
    _message()
    assert client_as(role).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("role", ["support", "marketing", "admin"])
def test_every_role_opens_a_message(client_as, role):
    message = _message()
    response = client_as(role).get(reverse("channels:message", args=[message.pk]))
    assert response.status_code == 200


def test_staff_without_view_messages_get_403(client, staff_user):
    from django.contrib.auth.models import User

    user = User.objects.create_user("nobody", "n@example.com", "pw-Kaskad-2026")
    client.force_login(user)
    message = _message()
    for url in (LOG, reverse("channels:sandbox"), reverse("channels:message", args=[message.pk])):
        assert client.get(url).status_code == 403


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get(LOG)
    assert response.status_code == 302 and "/app/login/" in response.url


def test_a_missing_message_is_404(client_as):
    assert client_as("support").get(reverse("channels:message", args=[999999])).status_code == 404


# --- Filters ------------------------------------------------------------------------------------


def test_filters_by_channel_status_category_and_source(client_as):
    sms = _message(channel="sms", status="delivered", category="marketing", source="campaign")
    email = _message(channel="email", address="a@example.com", status="failed", source="agent")
    client = client_as("marketing")
    assert _ids(client.get(LOG, {"channel": "email"})) == [email.pk]
    assert _ids(client.get(LOG, {"status": "delivered"})) == [sms.pk]
    assert _ids(client.get(LOG, {"category": "marketing"})) == [sms.pk]
    assert _ids(client.get(LOG, {"source": "agent"})) == [email.pk]
    assert _ids(client.get(LOG, {"channel": "sms", "status": "failed"})) == []


def test_filters_by_customer_external_id_or_phone_in_any_notation(client_as):
    anna = CustomerFactory(external_id="crm-anna", phone="+79161112233")
    mine = _message(anna)
    _message()
    client = client_as("support")
    assert _ids(client.get(LOG, {"customer": "crm-anna"})) == [mine.pk]
    assert _ids(client.get(LOG, {"customer": "8 (916) 111-22-33"})) == [mine.pk]
    response = client.get(LOG, {"customer": "nobody-like-this"})
    assert _ids(response) == []
    assert "No messages match these filters" in response.content.decode()


def test_date_range_is_read_in_the_staff_time_zone(client_as, staff_user, client):
    user = staff_user("support")
    StaffProfile.objects.update_or_create(user=user, defaults={"time_zone": "Asia/Vladivostok"})
    client.force_login(user)
    # 2026-03-10 23:30 in Vladivostok (UTC+10) is 13:30 UTC on the 10th; 00:30 on the 11th there
    # is 14:30 UTC on the 10th.
    late = _message(queued_at=datetime(2026, 3, 10, 13, 30, tzinfo=UTC))
    next_day = _message(queued_at=datetime(2026, 3, 10, 14, 30, tzinfo=UTC))
    assert _ids(client.get(LOG, {"date_from": "2026-03-10", "date_to": "2026-03-10"})) == [late.pk]
    assert _ids(client.get(LOG, {"date_from": "2026-03-11"})) == [next_day.pk]
    assert _ids(client.get(LOG, {"date_to": "2026-03-10"})) == [late.pk]


def test_bad_filter_values_are_form_errors_not_500(client_as):
    _message()
    response = client_as("support").get(
        LOG, {"channel": "pigeon", "date_from": "yesterday", "cursor": "x.y"}
    )
    assert response.status_code == 200
    form = response.context["filters"].form
    assert "channel" in form.errors and "date_from" in form.errors
    assert len(response.context["rows"]) == 1  # the invalid filters are left out


def test_active_filters_are_chips_that_remove_themselves(client_as):
    _message(channel="email", address="a@example.com")
    response = client_as("support").get(LOG, {"channel": "email", "status": "queued"})
    chips = response.context["active_filters"]
    assert {str(c["label"]) for c in chips} == {"Channel", "Status"}
    channel_chip = next(c for c in chips if str(c["label"]) == "Channel")
    assert (
        "channel=" not in channel_chip["remove_url"]
        and "status=queued" in channel_chip["remove_url"]
    )


# --- Paging -------------------------------------------------------------------------------------


def test_pages_newest_first_with_a_cursor_and_no_count(client_as):
    start = timezone.now() - timedelta(hours=1)
    customer = CustomerFactory()
    # Two messages share each instant, so the cursor must break ties by id.
    messages = [
        _message(customer, queued_at=start + timedelta(seconds=i // 2))
        for i in range(PAGE_SIZE + 7)
    ]
    newest_first = sorted(messages, key=lambda m: (m.queued_at, m.pk), reverse=True)
    client = client_as("support")
    first = client.get(LOG)
    assert _ids(first) == [m.pk for m in newest_first[:PAGE_SIZE]]
    next_url = first.context["next_url"]
    assert next_url and "cursor=" in next_url
    second = client.get(next_url)
    assert _ids(second) == [m.pk for m in newest_first[PAGE_SIZE:]]
    assert second.context["next_url"] == ""
    assert b"Show more" in first.content and b"Show more" not in second.content


def test_the_cursor_keeps_the_filters(client_as):
    customer = CustomerFactory()
    for _ in range(PAGE_SIZE + 1):
        _message(customer, channel="email", address="a@example.com")
    _message(customer)
    response = client_as("support").get(LOG, {"channel": "email"})
    assert "channel=email" in response.context["next_url"]
    assert len(_ids(response.client.get(response.context["next_url"]))) == 1


def test_the_log_never_counts(client_as):
    _message()
    client = client_as("support")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(LOG, {"status": "queued"})
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_cursor_round_trip_is_exact():
    moment = datetime(2026, 12, 3, 7, 1, 6, 123456, tzinfo=UTC)
    assert cursor_decode(cursor_encode(moment, 42)) == (moment, 42)
    assert cursor_decode("garbage") is None and cursor_decode("1.-3") is None


# --- One message ----------------------------------------------------------------------------------


def test_an_email_shows_in_a_sandboxed_iframe_with_its_status_history(client_as):
    customer = CustomerFactory(external_id="crm-7")
    message = _message(
        customer,
        channel="email",
        address="anna@example.com",
        subject="Your receipt",
        html="<p>Thanks</p>",
        status="bounced",
        provider="email",
        attempts=2,
    )
    t0 = timezone.now()
    MessageStatusChange.objects.create(
        message=message, status="sent", occurred_at=t0, source="worker"
    )
    MessageStatusChange.objects.create(
        message=message,
        status="bounced",
        reason="550 mailbox unavailable",
        occurred_at=t0 + timedelta(minutes=1),
        source="webhook",
    )
    MessageStatusChange.objects.create(
        message=message, status="queued", occurred_at=t0 - timedelta(minutes=1), source="api"
    )
    response = client_as("support").get(reverse("channels:message", args=[message.pk]))
    html = response.content.decode()
    body_url = reverse("channels:message_body", args=[message.pk])
    assert f'<iframe class="email-frame" sandbox src="{body_url}"' in html
    assert [c.status for c in response.context["history"]] == ["queued", "sent", "bounced"]
    assert "550 mailbox unavailable" in html
    assert 'href="/app/customers/crm-7/"' in html
    assert "Your receipt" in html


def test_an_sms_shows_as_a_bubble_with_parts_and_encoding(client_as):
    message = _message(body="Привет! " * 12, parts=2)
    response = client_as("support").get(reverse("channels:message", args=[message.pk]))
    html = response.content.decode()
    assert 'class="bubble"' in html
    assert "2 parts · UCS-2 · 96 characters" in html


def test_queueing_heads_the_history_even_when_not_recorded_as_a_change(client_as):
    message = _message(status="sent")
    MessageStatusChange.objects.create(message=message, status="sent", source="worker")
    response = client_as("support").get(reverse("channels:message", args=[message.pk]))
    history = response.context["history"]
    assert [c.status for c in history] == ["queued", "sent"]
    assert history[0].occurred_at == message.queued_at


def test_tracked_links_and_clicks_are_listed(client_as):
    message = _message(status="clicked")
    TrackedLink.objects.create(code="abc123", message=message, url="https://shop.example/sale")
    MessageStatusChange.objects.create(
        message=message, status="clicked", reason="https://shop.example/sale", source="click"
    )
    html = client_as("support").get(reverse("channels:message", args=[message.pk])).content
    assert b"/l/abc123" in html and b"https://shop.example/sale" in html


def test_a_push_message_shows_as_a_card(client_as):
    message = _message(
        channel="push", address="https://push.example/x", body="Sale", payload={"title": "Hi"}
    )
    html = client_as("support").get(reverse("channels:message", args=[message.pk])).content
    assert b'class="message-card"' in html and b"title" in html


# --- Sandbox ------------------------------------------------------------------------------------


def test_with_the_sandbox_on_the_log_says_so_and_the_outbox_shows_customers(client_as, settings):
    settings.MESSAGING_SANDBOX = True
    customer = CustomerFactory(external_id="crm-sand", first_name="Boris", last_name="Ivanov")
    message = _message(customer)
    SandboxMessage.objects.create(
        message=message, channel="sms", address=message.address, body=message.body
    )
    client = client_as("support")
    assert b"sandbox-banner" in client.get(LOG).content
    response = client.get(reverse("channels:sandbox"))
    html = response.content.decode()
    assert "Boris Ivanov" in html and 'href="/app/customers/crm-sand/"' in html
    assert reverse("channels:message", args=[message.pk]) in html


def test_with_the_sandbox_off_the_page_says_so(client_as, settings):
    settings.MESSAGING_SANDBOX = False
    client = client_as("admin")
    assert b"sandbox-banner" not in client.get(LOG).content
    response = client.get(reverse("channels:sandbox"))
    assert response.status_code == 200
    assert "The sandbox is off" in response.content.decode()


def test_the_sandbox_outbox_pages_by_cursor(client_as, settings):
    settings.MESSAGING_SANDBOX = True
    message = _message()
    for _ in range(PAGE_SIZE + 2):
        SandboxMessage.objects.create(message=message, channel="sms", address="x", body="b")
    client = client_as("support")
    first = client.get(reverse("channels:sandbox"))
    assert len(first.context["rows"]) == PAGE_SIZE
    second = client.get(first.context["next_url"])
    assert len(second.context["rows"]) == 2 and second.context["next_url"] == ""


def test_rare_filters_search_a_bounded_window_per_request(client_as, monkeypatch):
    from channels import message_log

    monkeypatch.setattr(message_log, "SCAN_WINDOW", 5)
    start = timezone.now() - timedelta(hours=1)
    customer = CustomerFactory()
    rare = _message(customer, source="agent", queued_at=start)
    for i in range(1, 12):
        _message(customer, source="api", queued_at=start + timedelta(minutes=i))
    client = client_as("support")
    response = client.get(LOG, {"source": "agent"})
    assert _ids(response) == [] and response.context["searched"]
    assert "searches older ones" in response.content.decode()
    found = []
    for _ in range(5):
        next_url = response.context["next_url"]
        if not next_url:
            break
        response = client.get(next_url)
        found += _ids(response)
    assert found == [rare.pk]
    assert response.context["next_url"] == ""


def test_the_window_does_not_cut_a_full_page_or_a_customer(client_as, monkeypatch):
    from channels import message_log

    monkeypatch.setattr(message_log, "SCAN_WINDOW", 3)
    customer = CustomerFactory(external_id="crm-few")
    mine = [_message(customer) for _ in range(4)]
    client = client_as("support")
    assert _ids(client.get(LOG, {"customer": "crm-few"})) == [m.pk for m in reversed(mine)]
    assert _ids(client.get(LOG)) == [m.pk for m in reversed(mine)]


def test_the_window_starts_inside_the_date_range(client_as, monkeypatch):
    from channels import message_log

    monkeypatch.setattr(message_log, "SCAN_WINDOW", 3)
    customer = CustomerFactory()
    old = _message(customer, source="agent", queued_at=datetime(2026, 1, 5, 12, tzinfo=UTC))
    for i in range(6):
        _message(customer, source="agent", queued_at=datetime(2026, 2, 1, 12, i, tzinfo=UTC))
    response = client_as("support").get(
        LOG, {"source": "agent", "date_from": "2026-01-01", "date_to": "2026-01-31"}
    )
    assert _ids(response) == [old.pk]


def test_previewing_an_email_does_not_count_as_an_open(client_as):
    from channels.tracking.links import with_open_pixel
    from channels.tracking.tokens import open_url

    message = _message(channel="email", address="a@example.com", html="<p>Hi</p>")
    Message.objects.filter(pk=message.pk).update(html=with_open_pixel(message.pk, message.html))
    body = client_as("support").get(reverse("channels:message_body", args=[message.pk]))
    assert body.status_code == 200
    assert b"<p>Hi</p>" in body.content
    assert b"/t/o/" not in body.content and open_url(message.pk).encode() not in body.content
