"""A detractor's answer starts a recovery journey within a minute, with a real Celery worker on
the `default`, `journeys` and `send` queues, a real SMTP server (aiosmtpd) and a loopback HTTP
server playing the SMS gateway. The survey itself is sent by its Celery task, in a batch.

The test process plays the customer: it opens the one-click link from the email that arrived."""

import re
import time
from html import unescape

import pytest
from aiosmtpd.controller import Controller

from analytics.models.surveys import SurveyAnswer, SurveySend
from analytics.surveys.definitions import survey_create
from campaigns.journeys.models import Enrollment
from channels.models import Conversation, ConversationNote, DeliverySettings
from channels.services.policy import forget_delivery_settings
from tests.campaigns.journey_data import customer, publish, template
from tests.celery_worker import app_publishing_to, broker_for_test, celery_worker
from tests.channels.test_email import RecordingHandler, free_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
BASE_URL = "https://kaskad.example"
WITHIN = 60.0  # the promise: a detractor's recovery starts within one minute


@pytest.fixture
def world(tmp_path, settings, httpserver):
    DeliverySettings.objects.all().delete()
    DeliverySettings.objects.create(marketing_per_day=0, marketing_per_week=0)
    forget_delivery_settings()
    smtp = RecordingHandler()
    port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=port)
    controller.start()
    sms: list[dict] = []

    def gateway(request):
        from werkzeug import Response

        sms.append(request.get_json())
        return Response(f'{{"message_id": "exolve-{len(sms)}"}}', content_type="application/json")

    httpserver.expect_request("/messaging/v1/SendSMS", method="POST").respond_with_handler(gateway)
    settings.PUBLIC_BASE_URL = BASE_URL
    client, broker_env = broker_for_test(tmp_path)
    env = {
        "MESSAGING_SANDBOX": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DEFAULT_FROM_EMAIL": "shop@kaskad.example",
        "SMS_PROVIDER": "exolve",
        "EXOLVE_BASE_URL": httpserver.url_for("/").rstrip("/"),
        "EXOLVE_API_KEY": "key",
        "EXOLVE_SENDER": "Kaskad",
        "PUBLIC_BASE_URL": BASE_URL,
    }
    with app_publishing_to(client):
        yield {"smtp": smtp, "sms": sms, "broker": broker_env, "env": env, "celery": client}
    controller.stop()


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def score_link(received, score: int) -> str:
    html = received["message"].get_body(preferencelist=("html",)).get_content()
    links = dict(
        (int(s), unescape(u)) for u, s in re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', html)
    )
    return links[score].removeprefix(BASE_URL)


def test_a_detractor_gets_a_conversation_at_once_and_the_recovery_journey_within_a_minute(
    world, client
):
    sorry = template(
        name="Sorry",
        variants={"sms": {"body": "Нам жаль, что вы недовольны. Перезвоним сегодня."}},
    )
    journey = publish(
        [
            {
                "id": "sorry",
                "type": "send",
                "template_id": sorry.pk,
                "channel": "sms",
                "on_unreachable": "exit",
                "next": None,
            }
        ],
        trigger={
            "kind": "event",
            "event": "survey_answered",
            "filters": {"kind": "nps", "score": [0, 1, 2, 3, 4, 5, 6]},
        },
        name="Detractor recovery",
    )
    survey = survey_create("nps", "NPS", open_conversation_on_detractor=True)
    unhappy, happy = customer(locale="ru-RU"), customer(locale="ru-RU")

    with celery_worker(world["broker"], queues="default,journeys,send", extra_env=world["env"]):
        world["celery"].send_task(
            "analytics.surveys.tasks.surveys_send",
            args=[survey.pk, [unhappy.pk, happy.pk]],
            kwargs={"source": "broadcast", "broadcast_id": 3, "idempotency_key_prefix": "b:3"},
            queue="default",
        )
        assert wait_for(lambda: len(world["smtp"].received) == 2, timeout=40)
        by_address = {r["rcpt_tos"][0]: r for r in world["smtp"].received}

        response = client.get(score_link(by_address[unhappy.email], 3))
        clicked = time.monotonic()
        assert response.status_code == 302
        # The support conversation is there when the click's request returns.
        conversation = Conversation.objects.get(customer=unhappy)
        assert conversation.status == Conversation.Status.OPEN
        assert "3 of 10" in ConversationNote.objects.get(conversation=conversation).body

        client.get(score_link(by_address[happy.email], 10))
        assert wait_for(lambda: len(world["sms"]) >= 1, timeout=WITHIN)
        assert time.monotonic() - clicked < WITHIN
        time.sleep(2)  # the promoter's event has been through the worker by now too

    assert [m["destination"] for m in world["sms"]] == [unhappy.phone.lstrip("+")]
    assert "Нам жаль" in world["sms"][0]["text"]
    assert list(
        Enrollment.objects.filter(journey=journey).values_list("customer_id", flat=True)
    ) == [unhappy.pk]
    assert SurveySend.objects.filter(broadcast_id=3).count() == 2
    assert dict(SurveyAnswer.objects.values_list("customer_id", "score")) == {
        unhappy.pk: 3,
        happy.pk: 10,
    }
    assert not Conversation.objects.filter(customer=happy).exists()
