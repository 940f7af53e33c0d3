"""Email through a real SMTP server (aiosmtpd), an ESP through anymail (Postmark's API on a local
HTTP server), and anymail's tracking webhooks feeding message statuses."""

import base64
import email
import email.policy
import json
import socket
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from channels.models import Message, MessageStatus, MessageStatusChange
from channels.providers import ProviderError, ProviderNotConfigured, get_provider
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.tracking.services import message_tracking_apply
from channels.tracking.tokens import click_url, open_url, unsubscribe_url
from customers.models import ConsentChange, ConsentStatus

pytestmark = pytest.mark.django_db

BASE_URL = "https://kaskad.example"
FROM = "Shop <news@shop.example>"
WEBHOOK_SECRET = "postmark:s3cret"


class RecordingHandler:
    """An SMTP server's handler: keeps what arrives, counts connections, refuses on request."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.peers: set[tuple] = set()
        self.rcpt_replies: dict[str, str] = {}  # address → reply to RCPT TO
        self.data_replies: dict[str, str] = {}  # address → reply to DATA
        self.drop_after_data: set[str] = set()  # take the email, then hang up without a reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.peers.add(session.peer)  # one peer (client host, port) per TCP connection
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            if address in self.data_replies:
                return self.data_replies[address]
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
            }
        )
        if self.drop_after_data.intersection(envelope.rcpt_tos):
            server.transport.close()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port, and Kaskad configured to send through it."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MESSAGING_SANDBOX = False
    settings.EMAIL_BACKEND = "channels.providers.smtp.EmailBackend"  # the default
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = FROM
    settings.PUBLIC_BASE_URL = BASE_URL
    yield handler
    controller.stop()


def email_to(customer, category="marketing", **kwargs) -> Message:
    message = message_send(
        customer=customer,
        channel="email",
        category=category,
        source="api",
        subject=kwargs.pop("subject", "Spring sale"),
        body=kwargs.pop("body", "Up to 50% off: https://shop.example/sale"),
        html=kwargs.pop("html", ""),
        **kwargs,
    )
    assert message.status == MessageStatus.QUEUED, message.status_reason
    return message_tracking_apply(message)


def test_a_marketing_email_arrives_with_one_click_unsubscribe_html_pixel_and_tracked_links(
    smtp, reachable_customer
):
    customer = reachable_customer("email")
    html = (
        "<html><body><p>Hello!</p>"
        '<a href="https://shop.example/sale?utm_source=kaskad&amp;utm_medium=email">Sale</a> '
        '<a href="mailto:help@shop.example">Help</a> <a href="tel:+74951234567">Call</a>'
        "</body></html>"
    )
    message = email_to(customer, html=html)

    assert messages_deliver([message.pk]).sent == 1

    (arrived,) = smtp.received
    assert arrived["rcpt_tos"] == [customer.email]
    assert arrived["mail_from"] == "news@shop.example"
    mail = arrived["message"]
    assert mail["Subject"] == "Spring sale"
    assert mail["From"] == FROM
    assert mail["List-Unsubscribe"].strip() == f"<{unsubscribe_url(message.pk)}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    assert text.strip() == f"Up to 50% off: {click_url(message.pk, 'https://shop.example/sale')}"
    sent_html = mail.get_body(("html",)).get_content()
    sale = "https://shop.example/sale?utm_source=kaskad&utm_medium=email"
    assert f'href="{click_url(message.pk, sale)}"' in sent_html
    assert 'href="mailto:help@shop.example"' in sent_html
    assert 'href="tel:+74951234567"' in sent_html
    assert f'<img src="{open_url(message.pk)}"' in sent_html
    assert sent_html.index(open_url(message.pk)) < sent_html.index("</body>")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider == "email"
    assert message.provider_message_id == mail["Message-ID"]
    assert message.provider_message_id.startswith(f"<kaskad.{message.pk}.")
    assert message.provider_message_id.endswith("@shop.example>")


def test_a_transactional_email_has_no_unsubscribe_headers(smtp, reachable_customer):
    customer = reachable_customer("email", consent=None)
    message = email_to(customer, category="transactional", subject="Your order #12")

    messages_deliver([message.pk])

    mail = smtp.received[0]["message"]
    assert mail["Subject"] == "Your order #12"
    assert mail["List-Unsubscribe"] is None
    assert mail["List-Unsubscribe-Post"] is None
    assert not mail.is_multipart()  # no html given: text only


def test_an_html_only_email_still_gets_a_text_part(smtp, reachable_customer):
    customer = reachable_customer("email")
    message = email_to(customer, body="", html="<p>Only <b>HTML</b> here</p>")

    messages_deliver([message.pk])

    mail = smtp.received[0]["message"]
    assert mail.get_body(("plain",)).get_content().strip() == "Only HTML here"
    assert "<b>HTML</b>" in mail.get_body(("html",)).get_content()


def test_the_from_address_can_come_from_the_payload(smtp, reachable_customer):
    customer = reachable_customer("email")
    message = email_to(customer, payload={"from": "Olga <olga@shop.example>"})

    messages_deliver([message.pk])

    assert smtp.received[0]["message"]["From"] == "Olga <olga@shop.example>"


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("rcpt", "550 5.1.1 <{address}>: Recipient address rejected: User unknown"),
        ("data", "554 5.7.1 Message rejected as spam"),
    ],
)
def test_a_5xx_reply_fails_the_email_at_once_with_the_servers_words(
    smtp, reachable_customer, stage, reply
):
    customer = reachable_customer("email")
    reply = reply.format(address=customer.email)
    (smtp.rcpt_replies if stage == "rcpt" else smtp.data_replies)[customer.email] = reply
    message = email_to(customer)

    report = messages_deliver([message.pk])

    assert (report.sent, report.failed) == (0, 1)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == f"email: {reply}"
    assert message.attempts == 1
    assert not smtp.received


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_4xx_reply_is_retried_later(smtp, reachable_customer, eager_celery, stage):
    customer = reachable_customer("email")
    reply = "451 4.7.1 Greylisted, please try again later"
    (smtp.rcpt_replies if stage == "rcpt" else smtp.data_replies)[customer.email] = reply
    message = email_to(customer)

    report = messages_deliver([message.pk])

    assert (report.sent, report.failed) == (0, 0)
    assert message.pk in report.later
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.status_reason == f"retrying after email: {reply}"
    assert message.send_after is not None

    del (smtp.rcpt_replies if stage == "rcpt" else smtp.data_replies)[customer.email]
    assert messages_deliver([message.pk], now=message.send_after).sent == 1
    assert len(smtp.received) == 1


def test_a_session_lost_after_data_leaves_the_email_unconfirmed_and_not_resent(
    smtp, reachable_customer, enqueued
):
    customer = reachable_customer("email")
    smtp.drop_after_data.add(customer.email)
    message = email_to(customer)

    report = messages_deliver([message.pk])

    message.refresh_from_db()
    # The server had the whole email when the connection went: sending again could deliver it
    # twice, so it waits for a person (or a report) instead.
    assert (report.unconfirmed, message.status) == (1, MessageStatus.UNCONFIRMED)
    assert len(smtp.received) == 1
    assert enqueued == []


def test_a_batch_of_emails_goes_over_one_smtp_connection(smtp, reachable_customer):
    customers = [reachable_customer("email") for _ in range(4)]
    smtp.rcpt_replies[customers[1].email] = "550 5.1.1 No such mailbox"
    messages = [email_to(customer) for customer in customers]

    report = messages_deliver([m.pk for m in messages])

    assert (report.sent, report.failed) == (3, 1)
    assert len(smtp.peers) == 1
    assert [r["rcpt_tos"] for r in smtp.received] == [
        [customers[0].email],
        [customers[2].email],
        [customers[3].email],
    ]
    ids = {r["message"]["Message-ID"] for r in smtp.received}
    assert ids == set(
        Message.objects.filter(status="sent").values_list("provider_message_id", flat=True)
    )


def test_an_unreachable_smtp_server_retries_the_whole_batch(
    settings, reachable_customer, eager_celery
):
    settings.MESSAGING_SANDBOX = False
    settings.EMAIL_BACKEND = "channels.providers.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_URL = f"smtp://127.0.0.1:{settings.EMAIL_PORT}"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    messages = [email_to(reachable_customer("email")) for _ in range(2)]

    report = messages_deliver([m.pk for m in messages])

    assert sorted(report.later) == sorted(m.pk for m in messages)
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.status_reason.startswith("retrying after email: ConnectionRefusedError")


@pytest.mark.parametrize(
    "backend",
    ["channels.providers.smtp.EmailBackend", "django.core.mail.backends.smtp.EmailBackend"],
)
def test_email_is_not_configured_without_email_url_or_an_esp_backend(settings, backend):
    settings.EMAIL_URL = ""
    settings.EMAIL_BACKEND = backend

    with pytest.raises(ProviderNotConfigured) as refused:
        get_provider("email")

    assert str(refused.value) == "email is not configured: set EMAIL_URL or EMAIL_BACKEND"


def test_an_esp_backend_alone_configures_email(settings):
    settings.EMAIL_URL = ""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"

    assert get_provider("email").name == "email"


# --- An ESP through anymail: Postmark's API on a local HTTP server ------------------------------

POSTMARK_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"


@pytest.fixture
def postmark(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.EMAIL_URL = ""
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token-123",
        "POSTMARK_API_URL": httpserver.url_for("/"),
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    settings.DEFAULT_FROM_EMAIL = FROM
    settings.PUBLIC_BASE_URL = BASE_URL
    return httpserver


def test_an_esp_send_uses_postmarks_api_and_keeps_the_esps_message_id(postmark, reachable_customer):
    customer = reachable_customer("email")
    message = email_to(customer, body="Hi", html="<p>Hi</p>")
    postmark.expect_oneshot_request(
        "/email",
        method="POST",
        headers={"X-Postmark-Server-Token": "server-token-123", "Accept": "application/json"},
    ).respond_with_json(
        {
            "To": customer.email,
            "SubmittedAt": "2025-03-01T10:00:00.0000000-05:00",
            "MessageID": POSTMARK_ID,
            "ErrorCode": 0,
            "Message": "OK",
        }
    )

    assert messages_deliver([message.pk]).sent == 1

    postmark.check_assertions()
    (request, _response) = postmark.log[0]
    assert request.headers["Content-Type"] == "application/json"
    sent = request.get_json()
    assert sent["From"] == FROM
    assert sent["To"] == customer.email
    assert sent["Subject"] == "Spring sale"
    assert sent["TextBody"] == "Hi"
    assert sent["HtmlBody"].startswith("<p>Hi</p><img src=")
    headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url(message.pk)}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, POSTMARK_ID)


def test_an_esp_answering_500_is_retried_and_422_fails(postmark, reachable_customer, eager_celery):
    first, second = reachable_customer("email"), reachable_customer("email")
    retried, failed = email_to(first), email_to(second)
    postmark.expect_ordered_request("/email", method="POST").respond_with_data(
        "upstream down", status=500
    )
    postmark.expect_ordered_request("/email", method="POST").respond_with_json(
        {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{second.email}'."}, status=422
    )

    messages_deliver([retried.pk, failed.pk])

    retried.refresh_from_db()
    failed.refresh_from_db()
    assert retried.status == MessageStatus.QUEUED
    assert retried.status_reason.startswith("retrying after email:")
    assert "500" in retried.status_reason
    assert failed.status == MessageStatus.FAILED
    assert failed.status_reason.startswith("email: All message recipients were rejected")


# --- anymail tracking webhooks ----------------------------------------------------------------

WEBHOOK_URL = "/hooks/email/postmark/tracking/"


def basic_auth(credentials: str = WEBHOOK_SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post_event(event: dict, **headers):
    return Client().post(
        WEBHOOK_URL, data=json.dumps(event), content_type="application/json", **headers
    )


@pytest.fixture
def sent_via_postmark(postmark, reachable_customer):
    """An email Postmark accepted with POSTMARK_ID."""
    customer = reachable_customer("email")
    return Message.objects.create(
        customer=customer,
        channel="email",
        address=customer.email,
        subject="Spring sale",
        body="Hi",
        category="marketing",
        source="api",
        provider="email",
        provider_message_id=POSTMARK_ID,
        status=MessageStatus.SENT,
        sent_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
    )


def delivery_event(message_id: str = POSTMARK_ID, recipient: str = "x@example.com") -> dict:
    # Postmark's Delivery webhook, as its documentation shows it.
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": recipient,
        "Tag": "",
        "DeliveredAt": "2025-03-01T10:00:05Z",
        "Details": "Test delivery webhook details",
        "Metadata": {},
    }


def test_a_postmark_delivery_webhook_marks_the_email_delivered(sent_via_postmark):
    response = post_event(delivery_event(recipient=sent_via_postmark.address), **basic_auth())

    assert response.status_code == 200
    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.DELIVERED
    assert sent_via_postmark.delivered_at == datetime(2025, 3, 1, 10, 0, 5, tzinfo=UTC)
    change = sent_via_postmark.status_changes.get(status=MessageStatus.DELIVERED)
    assert change.source == "webhook:email"


@pytest.mark.parametrize(
    "headers",
    [{}, basic_auth("postmark:wrong"), basic_auth("intruder:s3cret")],
    ids=["no auth", "wrong password", "wrong user"],
)
def test_a_webhook_without_the_right_basic_auth_is_refused_and_stores_nothing(
    sent_via_postmark, headers
):
    response = post_event(delivery_event(), **headers)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.SENT
    assert not sent_via_postmark.status_changes.exists()


def test_webhooks_are_refused_until_a_webhook_secret_is_set(settings, sent_via_postmark):
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}

    response = post_event(delivery_event())

    assert response.status_code == 403
    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.SENT


def test_a_repeated_delivery_webhook_changes_nothing(sent_via_postmark):
    post_event(delivery_event(), **basic_auth())
    post_event(delivery_event(), **basic_auth())

    assert sent_via_postmark.status_changes.filter(status="delivered").count() == 1


def test_a_webhook_for_an_unknown_message_is_ignored(sent_via_postmark):
    response = post_event(delivery_event(message_id="not-ours"), **basic_auth())

    assert response.status_code == 200
    assert not MessageStatusChange.objects.exists()


def test_a_webhook_body_that_is_not_json_is_a_400(sent_via_postmark):
    response = Client().post(
        WEBHOOK_URL, data="RecordType=Delivery", content_type="application/json", **basic_auth()
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


def test_a_hard_bounce_marks_the_email_bounced_with_the_servers_words(sent_via_postmark):
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": POSTMARK_ID,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": sent_via_postmark.address,
        "BouncedAt": "2025-03-01T10:00:07Z",
        "Inactive": True,
        "CanActivate": True,
    }

    assert post_event(bounce, **basic_auth()).status_code == 200

    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.BOUNCED
    assert sent_via_postmark.status_reason == (
        "bounced: smtp;550 5.1.1 The email account that you tried to reach does not exist."
    )


def test_opens_and_clicks_from_the_esp_move_the_email_forward(sent_via_postmark):
    opened = {
        "RecordType": "Open",
        "MessageID": POSTMARK_ID,
        "Recipient": sent_via_postmark.address,
        "ReceivedAt": "2025-03-01T11:00:00Z",
        "FirstOpen": True,
    }
    clicked = {
        "RecordType": "Click",
        "MessageID": POSTMARK_ID,
        "Recipient": sent_via_postmark.address,
        "ReceivedAt": "2025-03-01T11:01:00Z",
        "OriginalLink": "https://shop.example/sale",
        "ClickLocation": "HTML",
    }

    post_event(opened, **basic_auth())
    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.OPENED
    post_event(clicked, **basic_auth())
    sent_via_postmark.refresh_from_db()
    assert sent_via_postmark.status == MessageStatus.CLICKED
    assert sent_via_postmark.status_reason == "https://shop.example/sale"


def test_a_spam_complaint_opts_the_customer_out_of_email(sent_via_postmark):
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "MessageID": POSTMARK_ID,
        "Email": sent_via_postmark.address,
        "BouncedAt": "2025-03-01T12:00:00Z",
        "Description": "The subscriber explicitly marked this message as spam.",
    }

    assert post_event(complaint, **basic_auth()).status_code == 200

    customer = sent_via_postmark.customer
    assert customer.consents.get(channel="email").status == ConsentStatus.OPTED_OUT
    change = ConsentChange.objects.get(customer=customer, channel="email", status="opted_out")
    assert change.source == "esp:postmark:complained"


def test_sending_one_email_raises_the_servers_refusal(smtp, reachable_customer):
    customer = reachable_customer("email")
    smtp.rcpt_replies[customer.email] = "550 5.7.1 Relaying denied"
    message = email_to(customer)

    with pytest.raises(ProviderError) as refused:
        get_provider("email").send(message)

    assert (refused.value.permanent, refused.value.reason) == (True, "550 5.7.1 Relaying denied")


@pytest.mark.parametrize("name", ["console", "filebased", "locmem", "dummy"])
def test_a_backend_that_sends_nothing_is_refused_without_debug(settings, name):
    settings.EMAIL_URL = ""
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{name}.EmailBackend"
    settings.DEBUG = False

    with pytest.raises(ProviderNotConfigured) as refused:
        get_provider("email")

    assert "sends nothing" in str(refused.value)


def test_the_console_backend_serves_a_laptop_with_debug_on(settings):
    settings.EMAIL_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.DEBUG = True

    assert get_provider("email").config["EMAIL_BACKEND"] == settings.EMAIL_BACKEND
