"""SMS through Twilio: the exact Messages.json request, error mapping, and signed webhooks.

A pytest-httpserver stands in for api.twilio.com. Twilio's documented request is
POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth (SID, auth token) and
a form body To, From, Body, StatusCallback; it answers 201 with the message resource (`sid`).
"""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.hooks.twilio import EMPTY_TWIML
from channels.models import InboundMessage, Message, MessageStatus, MessageStatusChange
from channels.providers import reset_providers
from channels.providers.twilio import twilio_signature
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send

pytestmark = pytest.mark.django_db

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
PHONE = "+79161234567"
PUBLIC = "https://kaskad.example.com"


@pytest.fixture
def twilio(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "twilio"
    settings.EXOLVE_API_KEY = ""  # no failover: Twilio's errors are the last word
    settings.TWILIO_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM = "+15005550006"
    settings.PUBLIC_BASE_URL = PUBLIC
    reset_providers()
    return httpserver


def queued_sms(reachable_customer, body="Your order 1042 is ready"):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    return message_send(
        customer=customer, channel="sms", category="transactional", source="api", body=body
    )


def twilio_resource(sid="SM0123456789abcdef0123456789abcdef", status="queued"):
    return {"sid": sid, "status": status, "num_segments": "1", "account_sid": SID}


def test_an_sms_is_posted_to_twilio_as_a_form_with_basic_auth_and_a_status_callback(
    twilio, reachable_customer, enqueued
):
    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    twilio.expect_request(
        MESSAGES_PATH,
        method="POST",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    ).respond_with_json(twilio_resource(), status=201)
    message = queued_sms(reachable_customer)

    report = messages_deliver([message.pk])

    twilio.check_assertions()
    request, _response = twilio.log[0]
    assert request.form.to_dict(flat=False) == {
        "To": [PHONE],
        "From": ["+15005550006"],
        "Body": ["Your order 1042 is ready"],
        "StatusCallback": [f"{PUBLIC}/hooks/twilio/status?message={message.pk}"],
    }
    message.refresh_from_db()
    assert report.sent == 1
    assert (message.status, message.provider) == (MessageStatus.SENT, "twilio")
    assert message.provider_message_id == "SM0123456789abcdef0123456789abcdef"
    assert message.parts == 1


def test_a_russian_sms_is_sent_in_utf8_and_counted_in_ucs2_parts(
    twilio, reachable_customer, enqueued
):
    body = "Скидка 20% на всё до воскресенья! " * 3  # 102 UCS-2 units
    twilio.expect_request(MESSAGES_PATH).respond_with_json(twilio_resource(), status=201)
    message = queued_sms(reachable_customer, body=body)

    messages_deliver([message.pk])

    assert twilio.log[0][0].form["Body"] == body
    message.refresh_from_db()
    assert message.parts == 2


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (21211, "The 'To' number +7916 is not a valid phone number."),
        (21610, "Attempt to send to unsubscribed recipient"),
    ],
)
def test_a_permanent_twilio_error_fails_the_message_with_twilios_reason(
    twilio, reachable_customer, enqueued, code, text
):
    twilio.expect_request(MESSAGES_PATH).respond_with_json(
        {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": 400,
        },
        status=400,
    )
    message = queued_sms(reachable_customer)

    report = messages_deliver([message.pk])

    message.refresh_from_db()
    assert report.failed == 1
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == f"twilio: HTTP 400: {text} (Twilio error {code})"
    assert not enqueued


def test_a_full_sender_queue_is_a_4xx_worth_retrying(twilio, reachable_customer, enqueued):
    twilio.expect_request(MESSAGES_PATH).respond_with_json(
        {
            "code": 21611,
            "message": "This 'From' number has exceeded the maximum number of queued messages",
            "more_info": "https://www.twilio.com/docs/errors/21611",
            "status": 400,
        },
        status=400,
    )
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk])

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.status_reason.startswith("retrying after twilio: HTTP 400: This 'From'")
    assert enqueued == [([message.pk], 10)]


def test_a_429_with_retry_after_waits_then_sends(twilio, reachable_customer, enqueued):
    now = timezone.now()
    twilio.expect_ordered_request(MESSAGES_PATH).respond_with_json(
        {"code": 20429, "message": "Too Many Requests", "status": 429},
        status=429,
        headers={"Retry-After": "5"},
    )
    twilio.expect_ordered_request(MESSAGES_PATH).respond_with_json(
        twilio_resource(sid="SMretry"), status=201
    )
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk], now=now)

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    # The larger of Retry-After and the first backoff (10 s); the 429 is not counted.
    assert enqueued == [([message.pk], 10.0)]
    assert message.attempts == 0
    assert messages_deliver([message.pk], now=now + timedelta(seconds=11)).sent == 1
    message.refresh_from_db()
    assert message.provider_message_id == "SMretry"


def test_a_twilio_503_is_retried_later(twilio, reachable_customer, enqueued):
    twilio.expect_request(MESSAGES_PATH).respond_with_data("Service Unavailable", status=503)
    message = queued_sms(reachable_customer)

    messages_deliver([message.pk])

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert enqueued == [([message.pk], 10)]


# --- signatures -------------------------------------------------------------------------------


def test_the_signature_matches_twilios_documented_example():
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+12349013030"],
        "Digits": ["1234"],
        "From": ["+12349013030"],
        "To": ["+18005551212"],
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert twilio_signature(url, params, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def signed_post(client, path, params, token=TOKEN, signature=None):
    """POST a form as Twilio would, signed over PUBLIC_BASE_URL + path (what Twilio called),
    while the request itself reaches Django on another host, as behind a proxy."""
    if signature is None:
        signature = twilio_signature(PUBLIC + path, {k: [v] for k, v in params.items()}, token)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, HTTP_HOST="10.0.0.5")


def sent_sms(reachable_customer, sid="SM0123456789abcdef0123456789abcdef"):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)
    return Message.objects.create(
        customer=customer,
        channel="sms",
        category="transactional",
        source="api",
        address=PHONE,
        body="Hi",
        provider="twilio",
        provider_message_id=sid,
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
    )


def status_params(status, sid="SM0123456789abcdef0123456789abcdef", **extra):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": "+15005550006",
        "To": PHONE,
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.fixture
def allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["*"]


def test_a_signed_delivered_callback_marks_the_message_delivered(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer)

    response = signed_post(client, "/hooks/twilio/status", status_params("delivered"))

    assert response.status_code == 200
    assert response.json() == {"applied": True}
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.status_changes.get().source == "webhook:twilio"


def test_an_undelivered_callback_fails_the_message_with_the_error_code(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer)

    signed_post(client, "/hooks/twilio/status", status_params("undelivered", ErrorCode="30003"))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.status_reason == "twilio: undelivered (error 30003)"


@pytest.mark.parametrize(
    "forge",
    [
        {"token": "someone-elses-token"},
        {"signature": ""},
        {"signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
    ],
)
def test_a_forged_status_callback_gets_403_and_changes_nothing(
    twilio, client, reachable_customer, allowed_hosts, forge
):
    message = sent_sms(reachable_customer)

    response = signed_post(client, "/hooks/twilio/status", status_params("delivered"), **forge)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not MessageStatusChange.objects.exists()


def test_a_callback_signed_for_another_url_is_refused(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer)
    params = status_params("delivered")
    signature = twilio_signature(
        "https://evil.example/hooks/twilio/status", {k: [v] for k, v in params.items()}, TOKEN
    )

    response = signed_post(client, "/hooks/twilio/status", params, signature=signature)

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_tampered_parameter_breaks_the_signature(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer)
    signature = twilio_signature(
        PUBLIC + "/hooks/twilio/status",
        {k: [v] for k, v in status_params("failed").items()},
        TOKEN,
    )

    response = signed_post(
        client, "/hooks/twilio/status", status_params("delivered"), signature=signature
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_repeated_and_out_of_order_callbacks_never_move_the_status_back(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer)

    for status in ("delivered", "delivered", "sent", "undelivered", "queued"):
        response = signed_post(client, "/hooks/twilio/status", status_params(status))
        assert response.status_code == 200

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert list(message.status_changes.values_list("status", flat=True)) == ["delivered"]


def test_a_callback_for_an_unknown_sid_is_ignored_with_200(twilio, client, db, allowed_hosts):
    response = signed_post(client, "/hooks/twilio/status", status_params("delivered", sid="SMx"))

    assert response.status_code == 200
    assert response.json() == {"applied": False}


def test_a_signed_callback_without_a_status_gets_400_naming_it(twilio, client, db, allowed_hosts):
    params = status_params("delivered")
    del params["MessageStatus"]

    response = signed_post(client, "/hooks/twilio/status", params)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "MessageStatus", "message": "MessageStatus is required"}
    ]


def inbound_params(body="Когда вы открываетесь?", sid="SM9999"):
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": SID,
        "From": PHONE,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def test_an_inbound_sms_is_stored_once_and_answered_with_empty_twiml(
    twilio, client, reachable_customer, allowed_hosts
):
    customer = reachable_customer("sms", address=PHONE, phone=PHONE)

    first = signed_post(client, "/hooks/twilio/inbound", inbound_params())
    again = signed_post(client, "/hooks/twilio/inbound", inbound_params())

    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith("text/xml")
    assert first.content.decode() == EMPTY_TWIML
    inbound = InboundMessage.objects.get()
    assert (inbound.customer, inbound.provider, inbound.provider_message_id) == (
        customer,
        "twilio",
        "SM9999",
    )
    assert inbound.body == "Когда вы открываетесь?"


def test_a_forged_inbound_sms_gets_403_and_nothing_is_stored(
    twilio, client, reachable_customer, allowed_hosts
):
    reachable_customer("sms", address=PHONE, phone=PHONE)

    response = signed_post(client, "/hooks/twilio/inbound", inbound_params("STOP"), token="x")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


# --- unconfirmed sends ----------------------------------------------------------------------


@pytest.fixture
def unconfirmed_sms(twilio, settings, reachable_customer, enqueued):
    """An SMS whose POST reached Twilio but whose answer came too late: `unconfirmed`."""
    import time

    from werkzeug import Response

    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    reset_providers()

    def too_slow(request):
        time.sleep(0.6)
        return Response("{}", status=201, content_type="application/json")

    twilio.expect_oneshot_request(MESSAGES_PATH, method="POST").respond_with_handler(too_slow)
    message = queued_sms(reachable_customer)
    assert messages_deliver([message.pk]).unconfirmed == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.UNCONFIRMED
    time.sleep(0.4)  # the stand-in gateway serves one request at a time: let it finish this one
    return message


def test_a_status_callback_carrying_our_reference_settles_an_unconfirmed_sms(
    unconfirmed_sms, client, allowed_hosts
):
    path = f"/hooks/twilio/status?message={unconfirmed_sms.pk}"

    response = signed_post(client, path, status_params("delivered", sid="SMlate"))

    assert response.json() == {"applied": True}
    unconfirmed_sms.refresh_from_db()
    assert (unconfirmed_sms.status, unconfirmed_sms.provider_message_id) == (
        MessageStatus.DELIVERED,
        "SMlate",
    )


def test_a_reference_never_overrides_a_known_gateway_id(
    twilio, client, reachable_customer, allowed_hosts
):
    message = sent_sms(reachable_customer, sid="SMreal")
    path = f"/hooks/twilio/status?message={message.pk}"

    response = signed_post(client, path, status_params("failed", sid="SMother"))

    assert response.json() == {"applied": False}
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "SMreal")


def twilio_listing(*items):
    return {"messages": list(items), "page_size": 50}


def listed(body, sid="SMfound", status="delivered", minutes_ago=0):
    from email.utils import format_datetime

    created = timezone.now() - timedelta(minutes=minutes_ago)
    return {"sid": sid, "body": body, "status": status, "date_created": format_datetime(created)}


def test_the_status_lookup_settles_an_unconfirmed_sms_twilio_has(unconfirmed_sms, twilio):
    from channels.services.unconfirmed import messages_settle_unconfirmed

    twilio.expect_request(
        MESSAGES_PATH,
        method="GET",
        query_string={"To": PHONE, "From": "+15005550006", "PageSize": "50"},
    ).respond_with_json(
        twilio_listing(listed("Something else", sid="SMx"), listed(unconfirmed_sms.body))
    )

    counts = messages_settle_unconfirmed(now=timezone.now() + timedelta(minutes=5))

    assert counts == {"settled": 1, "resent": 0, "unknown": 0}
    unconfirmed_sms.refresh_from_db()
    assert (unconfirmed_sms.status, unconfirmed_sms.provider_message_id) == ("delivered", "SMfound")
    assert unconfirmed_sms.status_changes.latest("id").source == "lookup:twilio"


def test_the_status_lookup_sends_again_what_twilio_never_got(unconfirmed_sms, twilio, enqueued):
    from channels.services.unconfirmed import messages_settle_unconfirmed

    twilio.expect_request(MESSAGES_PATH, method="GET").respond_with_json(
        twilio_listing(listed("An older text", sid="SMold", minutes_ago=60))
    )

    counts = messages_settle_unconfirmed(now=timezone.now() + timedelta(minutes=5))

    assert counts == {"settled": 0, "resent": 1, "unknown": 0}
    unconfirmed_sms.refresh_from_db()
    assert unconfirmed_sms.status == MessageStatus.QUEUED
    assert unconfirmed_sms.status_changes.latest("id").source == "lookup:twilio"
    assert enqueued[-1] == ([unconfirmed_sms.pk], None)


def test_a_full_page_that_does_not_reach_back_far_enough_proves_nothing(unconfirmed_sms, twilio):
    from channels.services.unconfirmed import messages_settle_unconfirmed

    page = [listed("Another text", sid=f"SM{n}") for n in range(50)]
    twilio.expect_request(MESSAGES_PATH, method="GET").respond_with_json(twilio_listing(*page))

    counts = messages_settle_unconfirmed(now=timezone.now() + timedelta(minutes=5))

    assert counts == {"settled": 0, "resent": 0, "unknown": 1}
    unconfirmed_sms.refresh_from_db()
    assert unconfirmed_sms.status == MessageStatus.UNCONFIRMED


def test_the_status_lookup_waits_for_delivery_reports_first(unconfirmed_sms, twilio):
    from channels.services.unconfirmed import messages_settle_unconfirmed

    assert messages_settle_unconfirmed() == {"settled": 0, "resent": 0, "unknown": 0}
    assert [r.method for r, _ in twilio.log] == ["POST"]


@pytest.mark.parametrize("reference", ["99999999999999999999999", "١٢", "-1", ""])
def test_a_reference_that_is_not_one_of_our_ids_is_ignored(
    twilio, client, allowed_hosts, reference
):
    from urllib.parse import quote

    path = f"/hooks/twilio/status?message={quote(reference)}"

    response = signed_post(client, path, status_params("delivered", sid="SMunknown"))

    assert (response.status_code, response.json()) == (200, {"applied": False})
