"""Email surveys through a real SMTP server (aiosmtpd): the customer follows the one-click link
for their score from the email that arrived, writes the comment on the page it opens, and gets the
thanks. Retries with an idempotency key never send twice; push carries the web page's link."""

import re
from html import unescape

import pytest
from aiosmtpd.controller import Controller

from analytics.models.surveys import SurveyAnswer, SurveySend
from analytics.surveys.definitions import survey_create
from analytics.surveys.presets import PRESETS
from analytics.surveys.sending import survey_send, survey_send_many
from channels.models import Message, MessageStatus, PushSubscription
from channels.providers import reset_providers
from channels.services.delivery import messages_deliver
from channels.services.policy import forget_delivery_settings
from customers.models import Consent, Event
from tests.channels.test_email import RecordingHandler, free_port
from tests.factories import ChannelIdentityFactory, CustomerFactory

pytestmark = pytest.mark.django_db
BASE_URL = "https://kaskad.example"


@pytest.fixture
def smtp(settings):
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MESSAGING_SANDBOX = False
    settings.EMAIL_BACKEND = "channels.providers.smtp.EmailBackend"
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Shop <news@shop.example>"
    settings.PUBLIC_BASE_URL = BASE_URL
    reset_providers()
    forget_delivery_settings()
    yield handler
    controller.stop()
    reset_providers()


def email_customer(**fields):
    customer = CustomerFactory(**fields)
    Consent.objects.create(customer=customer, channel="email", status="opted_in")
    return customer


def deliver_all():
    ids = list(Message.objects.filter(status=MessageStatus.QUEUED).values_list("pk", flat=True))
    messages_deliver(ids)


def score_links(received) -> dict[int, str]:
    html = received["message"].get_body(preferencelist=("html",)).get_content()
    links = re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', html)
    return {int(score): unescape(url) for url, score in links}


def path_of(url: str) -> str:
    assert url.startswith(BASE_URL + "/s/")
    return url.removeprefix(BASE_URL)


def test_the_customer_clicks_a_score_in_the_email_writes_why_and_is_thanked(smtp, client):
    customer = email_customer(locale="ru-RU")
    survey = survey_create("nps", "После покупки")
    send = survey_send(survey, customer, source="manual")  # the best channel: email
    assert send.channel == "email"
    deliver_all()
    (received,) = smtp.received
    assert received["rcpt_tos"] == [customer.email]
    assert received["message"]["Subject"].strip() == PRESETS["nps"]["question"]["ru"]
    links = score_links(received)
    assert sorted(links) == list(range(11))
    text = received["message"].get_body(preferencelist=("plain",)).get_content()
    assert links[0] in text and links[10] in text

    response = client.get(path_of(links[9]))
    assert response.status_code == 302
    answer = SurveyAnswer.objects.get(send=send)
    assert answer.score == 9
    page = client.get(response["Location"])
    content = page.content.decode()
    assert page.status_code == 200 and page["Content-Language"] == "ru"
    assert PRESETS["nps"]["follow_up"]["ru"] in content
    assert 'name="csrfmiddlewaretoken"' in content

    done = client.post(response["Location"], {"comment": "Быстро привезли"})
    assert done.status_code == 302
    thanks = client.get(done["Location"])
    assert PRESETS["nps"]["thanks"]["ru"] in thanks.content.decode()
    answer.refresh_from_db()
    assert (answer.score, answer.comment) == (9, "Быстро привезли")
    assert SurveySend.objects.get(pk=send.pk).state == SurveySend.State.DONE
    # Clicking another score later changes the answer, it does not add one.
    client.get(path_of(links[6]))
    assert SurveyAnswer.objects.values_list("score", "comment").get() == (6, "Быстро привезли")
    assert Event.objects.filter(name="survey_answered").count() == 3


def test_a_retried_send_with_the_same_key_sends_nothing_twice(smtp):
    customers = [email_customer() for _ in range(3)]
    survey = survey_create("csat", "CSAT")
    first = survey_send_many(
        survey,
        customers,
        source="journey",
        journey_id=4,
        journey_step="ask",
        idempotency_key_prefix="journey:4:ask",
    )
    again = survey_send_many(
        survey,
        [*customers, customers[0]],
        source="journey",
        journey_id=4,
        journey_step="ask",
        idempotency_key_prefix="journey:4:ask",
    )
    assert [s.pk for s in again] == [s.pk for s in first]
    assert SurveySend.objects.count() == 3 and Message.objects.count() == 3
    deliver_all()
    deliver_all()  # a redelivered task
    assert sorted(r["rcpt_tos"][0] for r in smtp.received) == sorted(c.email for c in customers)
    assert {s.journey_step for s in SurveySend.objects.all()} == {"ask"}


def test_without_consent_the_email_is_not_sent_and_the_send_is_unsent(smtp):
    customer = CustomerFactory()
    send = survey_send(survey_create("nps", "NPS"), customer, channel="email", source="manual")
    assert send.state == SurveySend.State.UNSENT
    assert send.message.status == MessageStatus.SUPPRESSED
    assert "consent" in send.message.status_reason
    deliver_all()
    assert smtp.received == []


def test_a_survey_after_a_conversation_is_transactional_and_needs_no_marketing_consent(smtp):
    customer = CustomerFactory()
    send = survey_send(
        survey_create("csat", "After chat"),
        customer,
        channel="email",
        source="conversation",
        conversation_id=12,
    )
    assert send.message.category == "transactional" and send.conversation_id == 12
    deliver_all()
    assert len(smtp.received) == 1


def test_push_carries_the_question_and_the_survey_page_as_its_link(smtp, client):
    customer = CustomerFactory(locale="en")
    identity = ChannelIdentityFactory(customer=customer, channel="push", address="fcm-token-1")
    PushSubscription.objects.create(identity=identity, kind="fcm")
    Consent.objects.create(customer=customer, channel="push", status="opted_in")
    send = survey_send(survey_create("ces", "CES"), customer, channel="push", source="api")
    message = send.message
    assert message.status == MessageStatus.QUEUED
    assert message.subject == PRESETS["ces"]["question"]["en"]
    page = client.get(path_of(message.payload["url"]))
    content = page.content.decode()
    assert page.status_code == 200
    assert [int(v) for v in re.findall(r'name="score" value="(\d+)"', content)] == list(range(1, 8))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "voice"}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"source": "x"}, "source"),
    ],
)
def test_bad_send_arguments_name_the_field_and_store_nothing(kwargs, field):
    from django.core.exceptions import ValidationError

    args = {"source": "manual", **kwargs}
    with pytest.raises(ValidationError) as caught:
        survey_send_many(survey_create("nps", "NPS"), [CustomerFactory()], **args)
    assert field in caught.value.message_dict
    assert not SurveySend.objects.exists() and not Message.objects.exists()


def test_an_archived_survey_is_not_sent():
    from django.core.exceptions import ValidationError

    from analytics.surveys.definitions import survey_update

    survey = survey_update(survey_create("nps", "NPS"), archived=True)
    with pytest.raises(ValidationError, match="archived"):
        survey_send(survey, CustomerFactory(), source="manual")


def test_a_retry_racing_the_first_run_takes_the_sends_it_stored_and_sends_the_rest(
    smtp, monkeypatch
):
    from analytics.surveys import sending

    customers = [email_customer(), email_customer()]
    survey = survey_create("nps", "NPS")
    real = sending._send_chunk
    calls = []

    def racing(survey, chunk, **kwargs):
        calls.append([c.pk for c in chunk])
        if len(calls) == 1:  # the other run stores the first customer's send just before us
            real(survey, chunk[:1], **kwargs)
        return real(survey, chunk, **kwargs)

    monkeypatch.setattr(sending, "_send_chunk", racing)
    sends = survey_send_many(survey, customers, source="broadcast", idempotency_key_prefix="b:9")
    assert [s.customer_id for s in sends] == [c.pk for c in customers]
    assert calls == [[c.pk for c in customers], [customers[1].pk]]
    assert SurveySend.objects.count() == 2 and Message.objects.count() == 2
