"""A CSAT survey after a closed support conversation: the survey settings name it, channels'
conversation close calls analytics' listener after the commit, and each close sends once."""

import pytest
from django.utils import timezone

from analytics.models import SurveySend, SurveySettings
from analytics.surveys.definitions import survey_create
from analytics.surveys.integrations import conversation_closed_survey, survey_settings
from channels.models import Conversation, Message
from channels.services.conversations import conversation_for_inbound, conversation_update
from channels.services.inbox import conversation_set_status
from tests.campaigns.journey_data import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def csat():
    survey = survey_create("csat", "Support CSAT")
    settings_row = survey_settings()
    settings_row.conversation_survey = survey
    settings_row.save()
    return survey


def conversation(channel="sms"):
    person = customer()
    found, _created = conversation_for_inbound(customer=person, channel=channel, at=timezone.now())
    return found


def close(conv, capture, actor=None):
    with capture(execute=True):
        conversation_set_status(conversation=conv, status=Conversation.Status.RESOLVED, actor=actor)
    conv.refresh_from_db()
    return conv


def test_closing_a_conversation_sends_the_csat_survey_on_its_channel(
    csat, staff_user, django_capture_on_commit_callbacks
):
    conv = close(conversation("sms"), django_capture_on_commit_callbacks, staff_user("support"))
    send = SurveySend.objects.get(customer_id=conv.customer_id)
    assert (send.survey_id, send.source, send.channel) == (csat.pk, "conversation", "sms")
    assert send.conversation_id == conv.pk
    stamp = int(conv.resolved_at.timestamp() * 1_000_000)
    assert send.idempotency_key == f"conversation:{conv.pk}:{stamp}:{conv.customer_id}"
    message = Message.objects.get(pk=send.message_id)
    assert message.channel == "sms" and message.status == "queued"


def test_a_repeated_close_notice_sends_nothing_twice(csat, django_capture_on_commit_callbacks):
    conv = close(conversation("email"), django_capture_on_commit_callbacks)
    args = (conv.pk, conv.customer_id, conv.channel, conv.resolved_at.isoformat())
    conversation_closed_survey(*args)  # the listener called again for the same close
    conversation_closed_survey(*args)
    assert SurveySend.objects.filter(conversation_id=conv.pk).count() == 1
    assert Message.objects.filter(customer_id=conv.customer_id).count() == 1


def test_a_reopened_and_closed_again_conversation_is_a_new_close(
    csat, django_capture_on_commit_callbacks
):
    conv = close(conversation("email"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_status(conversation=conv, status=Conversation.Status.OPEN, actor=None)
    close(conv, django_capture_on_commit_callbacks)
    assert SurveySend.objects.filter(conversation_id=conv.pk).count() == 2


def test_saving_a_closed_conversation_again_sends_nothing(csat, django_capture_on_commit_callbacks):
    conv = close(conversation("email"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(conversation=conv, status=Conversation.Status.RESOLVED)
    assert SurveySend.objects.filter(conversation_id=conv.pk).count() == 1


def test_without_a_survey_in_the_settings_nothing_is_sent(django_capture_on_commit_callbacks):
    survey_create("csat", "Unused")
    conv = close(conversation("email"), django_capture_on_commit_callbacks)
    assert SurveySettings.objects.get().conversation_survey is None
    assert not SurveySend.objects.filter(conversation_id=conv.pk).exists()


def test_an_archived_survey_is_not_sent(csat, django_capture_on_commit_callbacks):
    csat.archived_at = timezone.now()
    csat.save()
    conv = close(conversation("email"), django_capture_on_commit_callbacks)
    assert not SurveySend.objects.filter(conversation_id=conv.pk).exists()


def test_the_close_survey_is_sent_only_after_the_commit(csat, django_capture_on_commit_callbacks):
    conv = conversation("email")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        conversation_set_status(conversation=conv, status=Conversation.Status.RESOLVED, actor=None)
    assert not SurveySend.objects.filter(conversation_id=conv.pk).exists()
    for callback in callbacks:
        callback()
    assert SurveySend.objects.filter(conversation_id=conv.pk).count() == 1


def test_closing_through_the_api_sends_the_survey(csat, api, django_capture_on_commit_callbacks):
    conv = conversation("email")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/v1/conversations/{conv.pk}", {"status": "resolved"})
    assert response.status_code == 200, response.content
    assert SurveySend.objects.filter(conversation_id=conv.pk, source="conversation").count() == 1
