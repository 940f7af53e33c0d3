"""`unconfirmed` messages: a send that may have reached the gateway is not resent blindly; staff
see it in the admin and resend it deliberately, and the API lists the status.

A pytest-httpserver plays MTS Exolve, which takes no client reference and has no lookup by ours,
so its unconfirmed messages wait for staff.
"""

import time

import pytest
from django.urls import reverse
from werkzeug import Response

from channels.models import Message, MessageStatus
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.messages import message_send
from channels.services.unconfirmed import message_resend

pytestmark = pytest.mark.django_db

SEND_PATH = "/messaging/v1/SendSMS"


@pytest.fixture
def exolve(settings, httpserver):
    settings.MESSAGING_SANDBOX = False
    settings.SMS_PROVIDER = "exolve"
    settings.EXOLVE_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.EXOLVE_API_KEY = "exolve-key"
    settings.EXOLVE_SENDER = "+79990001122"
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    reset_providers()
    return httpserver


@pytest.fixture
def unconfirmed(exolve, reachable_customer, enqueued) -> Message:
    def too_slow(request):
        time.sleep(0.6)
        return Response('{"message_id": "late"}', content_type="application/json")

    exolve.expect_oneshot_request(SEND_PATH).respond_with_handler(too_slow)
    customer = reachable_customer("sms", address="+79161234567", phone="+79161234567")
    message = message_send(
        customer=customer, channel="sms", category="transactional", source="api", body="Code 7"
    )
    assert messages_deliver([message.pk]).unconfirmed == 1
    time.sleep(0.4)  # the stand-in gateway serves one request at a time: let it finish this one
    message.refresh_from_db()
    return message


def test_an_unconfirmed_message_is_never_resent_by_the_sweeper_or_a_retry(unconfirmed, enqueued):
    from channels.services.delivery import messages_sweep

    assert unconfirmed.status == MessageStatus.UNCONFIRMED
    assert messages_sweep() == 0
    assert messages_deliver([unconfirmed.pk]).sent == 0
    change = unconfirmed.status_changes.get()
    assert (change.status, change.source) == ("unconfirmed", "send:exolve")
    assert "may have reached the gateway" in change.reason


def test_staff_find_unconfirmed_messages_and_resend_one(
    unconfirmed, exolve, admin_client, enqueued, django_capture_on_commit_callbacks
):
    changelist = reverse("admin:kaskad_channels_message_changelist")

    page = admin_client.get(changelist, {"attention": "unconfirmed"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [unconfirmed]

    exolve.expect_request(SEND_PATH).respond_with_json({"message_id": "m-2"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist, {"action": "resend", "_selected_action": [unconfirmed.pk]}, follow=True
        )

    assert response.status_code == 200
    assert "1 messages will be sent again." in response.content.decode()
    unconfirmed.refresh_from_db()
    assert unconfirmed.status == MessageStatus.QUEUED
    resend = unconfirmed.status_changes.latest("id")
    assert resend.source == "resend:staff:admin"
    assert resend.reason.startswith("resent by staff:admin; before: exolve: timed out")
    assert enqueued[-1] == ([unconfirmed.pk], None)
    assert messages_deliver([unconfirmed.pk]).sent == 1


def test_only_an_unconfirmed_message_can_be_resent(unconfirmed, exolve, enqueued):
    exolve.expect_request(SEND_PATH).respond_with_json({"message_id": "m-2"})
    assert message_resend(message_id=unconfirmed.pk, actor="staff:anna")
    messages_deliver([unconfirmed.pk])

    assert not message_resend(message_id=unconfirmed.pk, actor="staff:anna")  # sent by now
    unconfirmed.refresh_from_db()
    assert unconfirmed.status == MessageStatus.SENT


def test_the_api_lists_and_documents_the_unconfirmed_status(unconfirmed, api):
    listed = api.get("/api/v1/messages", {"status": "unconfirmed"})

    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["results"]] == [unconfirmed.pk]
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    enums = [
        component.get("enum", [])
        for component in schema["components"]["schemas"].values()
        if isinstance(component, dict)
    ]
    assert any("unconfirmed" in enum for enum in enums)


def test_staff_who_may_only_view_messages_cannot_resend(unconfirmed, client, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_message"))
    client.force_login(viewer)
    changelist = reverse("admin:kaskad_channels_message_changelist")

    response = client.post(changelist, {"action": "resend", "_selected_action": [unconfirmed.pk]})

    assert response.status_code == 200  # the changelist again, with "No action selected"
    unconfirmed.refresh_from_db()
    assert unconfirmed.status == MessageStatus.UNCONFIRMED


def test_the_settling_job_leaves_messages_of_gateways_without_a_lookup_to_staff(unconfirmed):
    from datetime import timedelta

    from django.utils import timezone

    from channels.services.unconfirmed import messages_settle_unconfirmed

    counts = messages_settle_unconfirmed(now=timezone.now() + timedelta(hours=1))

    assert counts == {"settled": 0, "resent": 0, "unknown": 0}
    unconfirmed.refresh_from_db()
    assert unconfirmed.status == MessageStatus.UNCONFIRMED
