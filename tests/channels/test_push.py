"""Push: web push (VAPID, aes128gcm) and FCM HTTP v1 against local push services, and the
subscription API.

The push services are pytest-httpserver instances. Web push requests are checked the way a real
push service and browser would: the VAPID JWT is verified, and the body is decrypted with the
browser's private key to read the notification.
"""

import base64
import json
import os
from datetime import timedelta
from urllib.parse import parse_qs

import google.auth.jwt
import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from py_vapid import Vapid02
from werkzeug import Response

from channels.models import Message, MessageStatus, PushSubscription
from channels.providers import ProviderNotConfigured, get_provider
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.push import push_subscription_add
from customers.models import ChannelIdentity, ConsentStatus, SegmentMembership
from tests.factories import ConsentFactory, CustomerFactory, SegmentFactory

# Eager Celery: a retry re-enqueues in-process instead of into the embedded broker's folder.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@pytest.fixture
def vapid(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.MESSAGING_SANDBOX = False
    settings.VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = b64url(public_point(key))
    settings.VAPID_SUBJECT = "mailto:push@kaskad.example"
    return settings


class Browser:
    """A browser's push subscription: its own key pair and auth secret, as PushManager makes."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64url(public_point(self.key))

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def browser(httpserver):
    return Browser(httpserver.url_for("/wpush/v2/gAAAAABsubscription"))


def subscribed_customer(browser: Browser, consent=ConsentStatus.OPTED_IN, **fields):
    customer = CustomerFactory(**fields)
    push_subscription_add(
        customer=customer,
        kind="web",
        address=browser.endpoint,
        p256dh=browser.p256dh,
        auth=b64url(browser.auth),
    )
    ConsentFactory(customer=customer, channel="push", status=consent)
    return customer


def send_push(customer, category="marketing", **payload):
    return message_send(
        customer=customer,
        channel="push",
        category=category,
        source="api",
        subject="Скидка 20%",
        body="Только до воскресенья",
        payload=payload,
    )


def deliver(message, **kwargs):
    report = messages_deliver([message.pk], **kwargs)
    message.refresh_from_db()
    return report


# --- web push -----------------------------------------------------------------------------


def test_a_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    vapid, httpserver, browser, django_capture_on_commit_callbacks
):
    httpserver.expect_oneshot_request(
        "/wpush/v2/gAAAAABsubscription", method="POST"
    ).respond_with_data("", status=201, headers={"Location": httpserver.url_for("/wpush/m/msg-1")})
    customer = subscribed_customer(browser)
    with django_capture_on_commit_callbacks(execute=True):  # queued, committed, delivered
        message = send_push(
            customer, url="https://shop.example/sale", icon="https://shop.example/i.png"
        )

    message.refresh_from_db()

    assert message.status == MessageStatus.SENT
    assert message.provider == "webpush"
    assert message.provider_message_id == httpserver.url_for("/wpush/m/msg-1")
    request, _ = httpserver.log[0]
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["TTL"] == str(24 * 3600)
    assert request.headers["Urgency"] == "normal"
    # RFC 8292: "vapid t=<JWT signed by our key>,k=<our public key>", audience = push origin
    authorization = request.headers["Authorization"]
    assert authorization.startswith("vapid t=")
    params = dict(part.split("=", 1) for part in authorization.removeprefix("vapid ").split(","))
    assert params["k"] == vapid.VAPID_PUBLIC_KEY
    assert Vapid02.verify(authorization)
    claims = json.loads(unb64url(params["t"].split(".")[1]))
    assert claims["aud"] == httpserver.url_for("/").rstrip("/")
    assert claims["sub"] == "mailto:push@kaskad.example"
    assert claims["exp"] > timezone.now().timestamp() + 11 * 3600
    # Only the browser's private key opens the body.
    assert browser.decrypt(request.get_data()) == {
        "title": "Скидка 20%",
        "body": "Только до воскресенья",
        "url": "https://shop.example/sale",
        "icon": "https://shop.example/i.png",
        "message_id": message.pk,
    }


def test_the_vapid_token_is_signed_once_for_many_pushes_to_one_service(vapid, httpserver, browser):
    httpserver.expect_request("/wpush/v2/gAAAAABsubscription").respond_with_data("", status=201)
    customer = subscribed_customer(browser)
    first, second = send_push(customer, "transactional"), send_push(customer, "transactional")

    messages_deliver([first.pk, second.pk])

    tokens = {request.headers["Authorization"] for request, _ in httpserver.log}
    assert len(httpserver.log) == 2 and len(tokens) == 1
    assert {request.headers["Urgency"] for request, _ in httpserver.log} == {"high"}
    ids = set(Message.objects.values_list("provider_message_id", flat=True))
    assert len(ids) == 2 and all(i.startswith("webpush-") for i in ids)  # no Location given


@pytest.mark.parametrize("gone", [404, 410])
def test_a_gone_subscription_fails_the_message_and_is_forgotten(vapid, httpserver, browser, gone):
    httpserver.expect_request("/wpush/v2/gAAAAABsubscription").respond_with_data(
        "push subscription has unsubscribed or expired.", status=gone
    )
    customer = subscribed_customer(browser)
    message = send_push(customer)

    deliver(message)

    assert message.status == MessageStatus.FAILED
    assert message.status_reason.startswith(
        f"webpush: subscription expired or unsubscribed (HTTP {gone}"
    )
    assert not ChannelIdentity.objects.filter(channel="push", customer=customer).exists()
    assert not PushSubscription.objects.exists()
    # The next send knows there is nowhere to send.
    assert send_push(customer).status_reason == "address: no push address"


def test_a_push_service_outage_is_retried_and_then_succeeds(vapid, httpserver, browser):
    endpoint = "/wpush/v2/gAAAAABsubscription"
    httpserver.expect_ordered_request(endpoint).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(endpoint).respond_with_data("", status=201)
    message = send_push(subscribed_customer(browser))

    deliver(message)
    assert message.status == MessageStatus.QUEUED
    assert message.status_reason.startswith("retrying after webpush: HTTP 503")
    assert message.send_after > timezone.now()

    deliver(message, now=message.send_after + timedelta(seconds=1))
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert PushSubscription.objects.exists()  # a temporary error keeps the subscription


def test_a_rate_limited_push_waits_as_long_as_the_service_asks(vapid, httpserver, browser):
    httpserver.expect_request("/wpush/v2/gAAAAABsubscription").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "120"})
    )
    message = send_push(subscribed_customer(browser))
    before = timezone.now()

    deliver(message)

    assert message.status == MessageStatus.QUEUED
    assert before + timedelta(seconds=119) < message.send_after < before + timedelta(seconds=125)


def test_a_vapid_public_key_that_does_not_match_the_private_key_is_not_configured(vapid):
    vapid.VAPID_PUBLIC_KEY = b64url(public_point(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ProviderNotConfigured, match="does not belong"):
        get_provider("webpush")


def test_web_push_without_vapid_keys_suppresses_the_send(vapid, browser):
    vapid.VAPID_PRIVATE_KEY = ""
    message = send_push(subscribed_customer(browser))
    deliver(message)
    assert message.status == MessageStatus.SUPPRESSED
    assert "VAPID_PRIVATE_KEY" in message.status_reason


# --- FCM HTTP v1 --------------------------------------------------------------------------

FCM_TOKEN = "fcm-registration-token-" + "x" * 120
ACCESS_TOKEN = "ya29.kaskad-test-access-token"
SEND_PATH = "/v1/projects/kaskad-test/messages:send"


@pytest.fixture
def service_account_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fcm(settings, httpserver, tmp_path, service_account_key):
    pem = service_account_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = tmp_path / "service-account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "kaskad-test",
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": "fcm-sender@kaskad-test.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    settings.MESSAGING_SANDBOX = False
    settings.FCM_PROJECT_ID = "kaskad-test"
    settings.FCM_SERVICE_ACCOUNT_FILE = str(account)
    settings.FCM_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.FCM_TOKEN_URL = httpserver.url_for("/token")
    return settings


def token_endpoint(httpserver, expires_in=3600):
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": ACCESS_TOKEN, "expires_in": expires_in, "token_type": "Bearer"}
    )


def app_customer(consent=ConsentStatus.OPTED_IN):
    customer = CustomerFactory()
    push_subscription_add(customer=customer, kind="fcm", address=FCM_TOKEN)
    ConsentFactory(customer=customer, channel="push", status=consent)
    return customer


def requests_to(httpserver, path):
    return [request for request, _ in httpserver.log if request.path == path]


def test_an_fcm_push_gets_an_oauth_token_from_the_service_account_and_sends(
    fcm, httpserver, service_account_key
):
    token_endpoint(httpserver)
    httpserver.expect_request(
        SEND_PATH, method="POST", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
    ).respond_with_json({"name": "projects/kaskad-test/messages/0:1500415314455276%31bd1c96"})
    message = send_push(app_customer(), url="https://shop.example/sale", data={"order": 42})

    deliver(message)

    assert message.status == MessageStatus.SENT
    assert message.provider == "fcm"
    assert (
        message.provider_message_id == "projects/kaskad-test/messages/0:1500415314455276%31bd1c96"
    )
    # The OAuth 2.0 JWT grant: signed by the service account's key, for the messaging scope.
    (token_request,) = requests_to(httpserver, "/token")
    form = parse_qs(token_request.get_data(as_text=True))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    public_pem = service_account_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # google-auth always names Google's token endpoint as the audience, wherever it posts.
    claims = google.auth.jwt.decode(
        form["assertion"][0], certs=public_pem, audience="https://oauth2.googleapis.com/token"
    )
    assert claims["iss"] == "fcm-sender@kaskad-test.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    # The send itself, as the HTTP v1 API documents it.
    (send_request,) = requests_to(httpserver, SEND_PATH)
    assert send_request.headers["Content-Type"] == "application/json"
    assert send_request.get_json() == {
        "message": {
            "token": FCM_TOKEN,
            "notification": {"title": "Скидка 20%", "body": "Только до воскресенья"},
            "data": {
                "message_id": str(message.pk),
                "order": "42",
                "url": "https://shop.example/sale",
            },
        }
    }


def test_the_access_token_is_reused_until_it_nears_expiry(fcm, httpserver):
    token_endpoint(httpserver, expires_in=3600)
    httpserver.expect_request(SEND_PATH).respond_with_json({"name": "projects/p/messages/1"})
    customer = app_customer()
    for _ in range(3):
        deliver(send_push(customer, "transactional"))
    assert len(requests_to(httpserver, "/token")) == 1
    assert len(requests_to(httpserver, SEND_PATH)) == 3


def test_a_token_about_to_expire_is_renewed_before_the_next_send(fcm, httpserver):
    token_endpoint(httpserver, expires_in=120)  # inside google-auth's refresh margin
    httpserver.expect_request(SEND_PATH).respond_with_json({"name": "projects/p/messages/1"})
    customer = app_customer()
    deliver(send_push(customer, "transactional"))
    deliver(send_push(customer, "transactional"))
    assert len(requests_to(httpserver, "/token")) == 2


def fcm_error(status, error_code, grpc_status):
    return {
        "error": {
            "code": status,
            "message": f"{error_code} from the test",
            "status": grpc_status,
            "details": [
                {
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                    "errorCode": error_code,
                }
            ],
        }
    }


def test_an_unregistered_app_token_fails_at_once_and_is_forgotten(fcm, httpserver):
    token_endpoint(httpserver)
    httpserver.expect_request(SEND_PATH).respond_with_json(
        fcm_error(404, "UNREGISTERED", "NOT_FOUND"), status=404
    )
    customer = app_customer()
    message = send_push(customer)

    deliver(message)

    assert message.status == MessageStatus.FAILED
    assert "UNREGISTERED" in message.status_reason
    assert not ChannelIdentity.objects.filter(customer=customer, channel="push").exists()


def test_an_invalid_argument_fails_at_once_but_keeps_the_token(fcm, httpserver):
    token_endpoint(httpserver)
    httpserver.expect_request(SEND_PATH).respond_with_json(
        fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"), status=400
    )
    message = send_push(app_customer())
    deliver(message)
    assert message.status == MessageStatus.FAILED
    assert "INVALID_ARGUMENT" in message.status_reason
    assert PushSubscription.objects.filter(kind="fcm").exists()


@pytest.mark.parametrize(
    ("status", "error_code", "grpc_status"),
    [
        (503, "UNAVAILABLE", "UNAVAILABLE"),
        (500, "INTERNAL", "INTERNAL"),
        (429, "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED"),
    ],
)
def test_fcm_outages_and_quota_are_retried(fcm, httpserver, status, error_code, grpc_status):
    token_endpoint(httpserver)
    httpserver.expect_oneshot_request(SEND_PATH).respond_with_json(
        fcm_error(status, error_code, grpc_status), status=status
    )
    httpserver.expect_oneshot_request(SEND_PATH).respond_with_json(
        {"name": "projects/p/messages/2"}
    )
    message = send_push(app_customer())

    deliver(message)
    assert message.status == MessageStatus.QUEUED
    assert error_code in message.status_reason

    deliver(message, now=message.send_after + timedelta(seconds=1))
    assert (message.status, message.provider_message_id) == ("sent", "projects/p/messages/2")


def test_a_rejected_access_token_is_renewed_and_the_send_tried_again(fcm, httpserver):
    token_endpoint(httpserver)
    httpserver.expect_oneshot_request(SEND_PATH).respond_with_json(
        {"error": {"code": 401, "message": "expired", "status": "UNAUTHENTICATED"}}, status=401
    )
    httpserver.expect_oneshot_request(SEND_PATH).respond_with_json(
        {"name": "projects/p/messages/3"}
    )
    message = send_push(app_customer())
    deliver(message)
    assert message.status == MessageStatus.SENT
    assert len(requests_to(httpserver, "/token")) == 2


def test_a_missing_service_account_file_means_fcm_is_not_configured(fcm, tmp_path):
    fcm.FCM_SERVICE_ACCOUNT_FILE = str(tmp_path / "nope.json")
    with pytest.raises(ProviderNotConfigured, match="service account file"):
        get_provider("fcm")


# --- the subscription API -----------------------------------------------------------------

ENDPOINT = "https://fcm.googleapis.com/fcm/send/dXJ0aGVyZQ:APA91bH"


def web_subscription(browser_key=None, auth=None, endpoint=ENDPOINT):
    key = browser_key or ec.generate_private_key(ec.SECP256R1())
    return {
        "kind": "web",
        "endpoint": endpoint,
        "keys": {"p256dh": b64url(public_point(key)), "auth": auth or b64url(os.urandom(16))},
    }


def url(customer):
    return f"/api/v1/customers/{customer.external_id}/push-subscriptions"


def test_a_browser_subscription_is_stored_as_the_customers_push_address(api):
    customer = CustomerFactory()
    body = web_subscription()

    response = api.post(url(customer), body)

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "web"
    assert response.json()["endpoint"] == ENDPOINT
    identity = ChannelIdentity.objects.get(channel="push", address=ENDPOINT)
    assert identity.customer == customer
    subscription = identity.push_subscription
    assert (subscription.kind, subscription.p256dh, subscription.auth) == (
        "web",
        body["keys"]["p256dh"],
        body["keys"]["auth"],
    )


def test_subscribing_again_is_no_change_and_answers_200(api):
    customer = CustomerFactory()
    body = web_subscription()
    assert api.post(url(customer), body).status_code == 201
    assert api.post(url(customer), body).status_code == 200
    assert PushSubscription.objects.count() == 1


def test_an_endpoint_subscribed_by_another_customer_moves_to_them(api):
    first, second = CustomerFactory(), CustomerFactory()
    body = web_subscription()
    api.post(url(first), body)
    response = api.post(url(second), body)
    assert response.status_code == 201
    assert ChannelIdentity.objects.get(channel="push", address=ENDPOINT).customer == second


def test_subscribing_refreshes_the_segments_of_the_new_owner_and_of_the_one_it_moved_from(
    api, django_capture_on_commit_callbacks
):
    with_push = SegmentFactory(rules={"identity": "push"})
    first, second = CustomerFactory(), CustomerFactory()

    def members():
        memberships = SegmentMembership.objects.filter(segment=with_push)
        return set(memberships.values_list("customer_id", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(first), web_subscription())
    assert members() == {first.pk}

    with django_capture_on_commit_callbacks(execute=True):
        api.post(url(second), web_subscription())
    assert members() == {second.pk}


def test_an_app_token_is_stored_as_an_fcm_subscription(api):
    customer = CustomerFactory()
    response = api.post(url(customer), {"kind": "fcm", "token": FCM_TOKEN})
    assert response.status_code == 201
    assert response.json()["token"] == FCM_TOKEN and response.json()["endpoint"] is None
    assert ChannelIdentity.objects.get(address=FCM_TOKEN).push_subscription.kind == "fcm"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "web", "endpoint": ENDPOINT}, "keys"),
        ({"kind": "web", "keys": web_subscription()["keys"]}, "endpoint"),
        (
            {
                **web_subscription(),
                "keys": {"p256dh": "bm90IGEga2V5", "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
            },
            "keys.p256dh",
        ),
        ({**web_subscription(auth="c2hvcnQ")}, "keys.auth"),
        ({**web_subscription(endpoint="http://push.example/x")}, "endpoint"),
        ({"kind": "fcm"}, "token"),
        ({"kind": "apns", "token": "x"}, "kind"),
        ({"kind": "fcm", "token": "x" * 513}, "token"),
    ],
)
def test_an_invalid_subscription_is_400_naming_the_field(api, body, field):
    response = api.post(url(CustomerFactory()), body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not PushSubscription.objects.exists()


def test_subscribing_an_unknown_customer_is_404(api):
    response = api.post("/api/v1/customers/nobody/push-subscriptions", web_subscription())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_read_only_key_cannot_subscribe(read_api):
    response = read_api.post(url(CustomerFactory()), web_subscription())
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_unsubscribing_by_endpoint_removes_the_address(api):
    customer = CustomerFactory()
    api.post(url(customer), web_subscription())

    response = api.delete(url(customer), {"endpoint": ENDPOINT})

    assert response.status_code == 204
    assert not ChannelIdentity.objects.filter(channel="push").exists()
    assert not PushSubscription.objects.exists()


def test_unsubscribing_by_token_in_the_query_string(api):
    customer = CustomerFactory()
    api.post(url(customer), {"kind": "fcm", "token": FCM_TOKEN})
    response = api.delete(f"{url(customer)}?token={FCM_TOKEN}")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()


def test_unsubscribing_someone_elses_endpoint_is_404_and_changes_nothing(api):
    owner, other = CustomerFactory(), CustomerFactory()
    api.post(url(owner), web_subscription())
    response = api.delete(url(other), {"endpoint": ENDPOINT})
    assert response.status_code == 404
    assert PushSubscription.objects.count() == 1


def test_unsubscribing_without_naming_the_subscription_is_400(api):
    response = api.delete(url(CustomerFactory()))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "endpoint"


# --- web push batches and temporary statuses ----------------------------------------------


def test_a_batch_of_web_pushes_reads_its_subscriptions_in_one_query(vapid, httpserver):
    httpserver.expect_request("/wpush/v2/batch", method="POST").respond_with_data("", status=201)
    browsers = [Browser(httpserver.url_for(f"/wpush/v2/batch?s={n}")) for n in range(5)]
    first, *batch = [send_push(subscribed_customer(b), "transactional") for b in browsers]
    messages_deliver([first.pk])  # builds the provider and fills the per-process caches
    one, three = batch[:1], batch[1:]

    with CaptureQueriesContext(connection) as one_costs:
        messages_deliver([m.pk for m in one])
    with CaptureQueriesContext(connection) as three_costs:
        messages_deliver([m.pk for m in three])

    # The subscriptions are read once per batch; each send adds only its own record.
    subscription_reads = [q for q in three_costs if "pushsubscription" in q["sql"]]
    assert len(subscription_reads) == 1
    assert len(three_costs) <= len(one_costs) + 2 * 4

    assert Message.objects.filter(status=MessageStatus.SENT).count() == 5
    assert len(httpserver.log) == 5


@pytest.mark.parametrize("status", [408, 425])
def test_a_request_timeout_or_too_early_answer_is_retried(vapid, httpserver, browser, status):
    endpoint = "/wpush/v2/gAAAAABsubscription"
    httpserver.expect_ordered_request(endpoint).respond_with_data("try later", status=status)
    httpserver.expect_ordered_request(endpoint).respond_with_data("", status=201)
    message = send_push(subscribed_customer(browser))

    deliver(message)
    assert message.status == MessageStatus.QUEUED
    assert message.status_reason.startswith(f"retrying after webpush: HTTP {status}")

    deliver(message, now=message.send_after + timedelta(seconds=1))
    assert message.status == MessageStatus.SENT
    assert PushSubscription.objects.exists()


def test_a_single_web_push_is_sent_by_send_too(vapid, httpserver, browser):
    httpserver.expect_request("/wpush/v2/gAAAAABsubscription").respond_with_data(
        "", status=201, headers={"Location": httpserver.url_for("/wpush/m/one")}
    )
    message = send_push(subscribed_customer(browser))

    result = get_provider("webpush").send(message)

    assert result.provider_message_id == httpserver.url_for("/wpush/m/one")
    request, _ = httpserver.log[0]
    assert browser.decrypt(request.get_data())["message_id"] == message.pk
