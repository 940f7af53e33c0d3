"""Survey definitions from presets, and answers: one per send, a second one updates it, each
an event segments and journeys use, on the timeline, a detractor's conversation at once."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.models.surveys import SurveyAnswer, SurveySend, SurveySource
from analytics.surveys.answers import score_category, survey_answer_record
from analytics.surveys.definitions import survey_create, survey_update
from analytics.surveys.presets import PRESETS
from analytics.surveys.selectors import survey_response_rates
from campaigns.journeys.definition import EventTrigger
from campaigns.journeys.services.outcomes import properties_match
from channels.models import Conversation, ConversationNote
from customers.models import Event, SegmentMembership
from customers.services.segments import segment_create, segment_refresh
from customers.timeline import customer_timeline
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def a_send(survey, customer=None, channel="email", **fields):
    now = timezone.now()
    return SurveySend.objects.create(
        survey=survey,
        customer=customer or CustomerFactory(),
        channel=channel,
        source=SurveySource.MANUAL,
        sent_at=fields.pop("sent_at", now),
        expires_at=fields.pop("expires_at", now + timedelta(days=14)),
        **fields,
    )


# --- definitions --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["nps", "csat", "ces"])
def test_a_new_survey_gets_the_presets_question_follow_up_and_thanks_in_three_languages(kind):
    survey = survey_create(kind, "After delivery")
    for field in ("question", "follow_up", "thanks"):
        assert set(getattr(survey, field)) == {"ru", "en", "ro"}
        assert getattr(survey, field) == PRESETS[kind][field]
    assert survey.scale == {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[kind]


def test_given_texts_replace_the_preset_in_that_language_only_and_stay_editable():
    survey = survey_create("nps", "Q3", question={"en": "Would you recommend Kaskad Shop?"})
    assert survey.question["en"] == "Would you recommend Kaskad Shop?"
    assert survey.question["ru"] == PRESETS["nps"]["question"]["ru"]
    survey = survey_update(survey, thanks={"ro": "Mulțumim frumos!"}, name="Q3 NPS")
    assert survey.thanks["ro"] == "Mulțumim frumos!" and survey.name == "Q3 NPS"
    assert survey.thanks["en"] == PRESETS["nps"]["thanks"]["en"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "nps5", "name": "x"}, "kind"),
        ({"kind": "nps", "name": "  "}, "name"),
        ({"kind": "nps", "name": "x" * 201}, "name"),
        ({"kind": "csat", "name": "x", "question": {"de": "Wie?"}}, "question"),
        ({"kind": "csat", "name": "x", "thanks": {"ru": ""}}, "thanks"),
        ({"kind": "ces", "name": "x", "follow_up": "why?"}, "follow_up"),
        (
            {"kind": "ces", "name": "x", "whatsapp_template": {"name": "survey"}},
            "whatsapp_template",
        ),
    ],
)
def test_bad_definitions_name_the_field_and_store_nothing(kwargs, field):
    with pytest.raises(ValidationError) as caught:
        survey_create(**kwargs)
    assert field in caught.value.message_dict
    assert not SurveySend.objects.exists()
    from analytics.models.surveys import Survey

    assert not Survey.objects.exists()


# --- answers ------------------------------------------------------------------------------------


def test_the_second_answer_updates_the_first_and_each_is_its_own_event():
    survey = survey_create("nps", "NPS")
    send = a_send(survey)
    first = survey_answer_record(send, score=3)
    second = survey_answer_record(send, score=4)
    third = survey_answer_record(send, comment="  Delivery was late  ")
    assert first.pk == second.pk == third.pk
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.comment, answer.revision) == (4, "Delivery was late", 3)
    assert SurveySend.objects.get().state == SurveySend.State.DONE
    events = list(Event.objects.filter(name="survey_answered").order_by("event_id"))
    assert [e.properties["score"] for e in events] == [3, 4, 4]
    assert events[-1].properties == {
        "survey_id": survey.pk,
        "kind": "nps",
        "score": 4,
        "category": "detractor",
        "channel": "email",
        "send_id": send.pk,
        "comment_present": True,
        "source": "manual",
        "revision": 3,
    }
    assert {e.customer_id for e in events} == {send.customer_id}


@pytest.mark.parametrize(
    ("kind", "score"),
    [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("ces", 8), ("nps", True)],
)
def test_a_score_off_the_scale_is_refused_and_nothing_is_stored(kind, score):
    send = a_send(survey_create(kind, "S"))
    with pytest.raises(ValidationError) as caught:
        survey_answer_record(send, score=score)
    assert "score" in caught.value.message_dict
    assert not SurveyAnswer.objects.exists() and not Event.objects.exists()


def test_a_comment_before_any_score_an_expired_send_and_an_empty_answer_are_refused():
    survey = survey_create("csat", "S")
    send = a_send(survey)
    with pytest.raises(ValidationError, match="score before the comment"):
        survey_answer_record(send, comment="hello")
    with pytest.raises(ValidationError):
        survey_answer_record(send)
    old = a_send(survey, expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        survey_answer_record(old, score=5)
    assert not SurveyAnswer.objects.exists()


@pytest.mark.parametrize(
    ("kind", "score", "category"),
    [
        ("nps", 0, "detractor"),
        ("nps", 6, "detractor"),
        ("nps", 7, "passive"),
        ("nps", 9, "promoter"),
        ("csat", 4, "satisfied"),
        ("csat", 3, "neutral"),
        ("csat", 2, "dissatisfied"),
        ("ces", 6, "easy"),
        ("ces", 5, "neutral"),
        ("ces", 3, "hard"),
    ],
)
def test_categories(kind, score, category):
    assert score_category(kind, score) == category


def test_a_segment_rule_gave_nps_at_most_6_matches_the_detractor_only():
    survey = survey_create("nps", "NPS")
    detractor, promoter = CustomerFactory(), CustomerFactory()
    survey_answer_record(a_send(survey, detractor), score=6)
    survey_answer_record(a_send(survey, promoter), score=10)
    rule = {
        "event": {
            "name": "survey_answered",
            "where": [
                {"property": "kind", "op": "equals", "value": "nps"},
                {"property": "score", "op": "lte", "value": 6},
            ],
        }
    }
    segment = segment_create(name="Gave NPS ≤ 6", kind="dynamic", rules=rule)
    segment_refresh(segment=segment)
    members = set(
        SegmentMembership.objects.filter(segment=segment).values_list("customer_id", flat=True)
    )
    assert members == {detractor.pk}


def test_a_journey_event_trigger_with_score_at_most_6_matches_the_event_properties():
    survey = survey_create("nps", "NPS")
    survey_answer_record(a_send(survey), score=2)
    survey_answer_record(a_send(survey), score=8)
    trigger = EventTrigger(
        kind="event", event="survey_answered", filters={"kind": "nps", "score": list(range(7))}
    )
    by_score = {
        e.properties["score"]: properties_match(e.properties, trigger.filters, {})
        for e in Event.objects.filter(name=trigger.event)
    }
    assert by_score == {2: True, 8: False}


def test_an_answer_is_on_the_customers_timeline():
    survey = survey_create("csat", "After chat")
    send = a_send(survey, channel="sms")
    survey_answer_record(send, score=2)
    survey_answer_record(send, comment="Long wait")
    entries = [e for e in customer_timeline(send.customer_id).entries if e.kind == "survey_answer"]
    assert len(entries) == 1
    assert entries[0].title == "CSAT 2/5 (dissatisfied): After chat"
    assert entries[0].data["comment"] == "Long wait" and entries[0].data["channel"] == "sms"


def test_a_detractor_opens_a_conversation_with_a_note_at_once_and_a_later_comment_is_noted():
    survey = survey_create("nps", "NPS", open_conversation_on_detractor=True)
    send = a_send(survey, channel="telegram")
    answer = survey_answer_record(send, score=1)
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.channel, conversation.status) == (
        send.customer_id,
        "telegram",
        "open",
    )
    assert answer.conversation_id == conversation.pk
    survey_answer_record(send, comment="Nobody answered the phone")
    survey_answer_record(send, score=2)  # still a detractor: no second conversation, no note
    notes = list(ConversationNote.objects.order_by("pk").values_list("body", flat=True))
    assert len(notes) == 2 and "1 of 10" in notes[0] and "Nobody answered the phone" in notes[1]
    assert Conversation.objects.count() == 1


def test_a_detractor_reuses_the_customers_open_conversation_and_promoters_open_none():
    survey = survey_create("nps", "NPS", open_conversation_on_detractor=True)
    customer = CustomerFactory()
    existing = Conversation.objects.create(customer=customer, channel="email")
    survey_answer_record(a_send(survey, customer), score=10)
    assert not ConversationNote.objects.exists()
    survey_answer_record(a_send(survey, customer), score=0)
    assert list(Conversation.objects.values_list("pk", flat=True)) == [existing.pk]
    assert ConversationNote.objects.get().conversation_id == existing.pk


def test_without_the_setting_a_detractor_opens_no_conversation():
    survey_answer_record(a_send(survey_create("nps", "NPS")), score=0)
    assert not Conversation.objects.exists()


def test_response_rates_per_survey_and_channel_leave_out_sends_never_sent():
    survey, other = survey_create("nps", "A"), survey_create("csat", "B")
    for channel, answered in [("email", True), ("email", False), ("sms", True), ("sms", True)]:
        send = a_send(survey, channel=channel)
        if answered:
            survey_answer_record(send, score=9)
    a_send(survey, channel="email", state=SurveySend.State.UNSENT)
    a_send(survey, channel="email", sent_at=timezone.now() - timedelta(days=40))  # before
    rates = survey_response_rates(
        [survey.pk, other.pk], sent_from=timezone.now() - timedelta(days=30)
    )
    total, email, sms = rates[survey.pk]
    assert (total.channel, total.sends, total.answers, total.rate) == ("", 4, 3, 0.75)
    assert (email.channel, email.sends, email.answers, email.rate) == ("email", 2, 1, 0.5)
    assert (sms.channel, sms.sends, sms.answers, sms.rate) == ("sms", 2, 2, 1.0)
    assert [(r.sends, r.rate) for r in rates[other.pk]] == [(0, None)]
