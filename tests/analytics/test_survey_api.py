"""API v1 for surveys: definitions, sending (scope, idempotency), answers with signed cursors and
filters, scores with filters and groups; errors name the field."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models.surveys import Survey, SurveyKind, SurveySend
from analytics.surveys.definitions import survey_create
from analytics.surveys.presets import PRESETS
from api.models import ApiScope
from api.services import api_key_create
from customers.models import Consent
from tests.analytics.test_survey_scores import CES_SCORES, NPS_SCORES, make_answers
from tests.factories import CustomerFactory, SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db
RECENT = timezone.now() - timedelta(days=10)


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_create_a_survey_from_its_kinds_ready_texts(api):
    response = api.post(
        "/api/v1/surveys",
        {"kind": "ces", "name": "Checkout ease", "question": {"en": "Was it easy?"}},
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["kind"], data["scale"], data["archived"]) == ("ces", [1, 7], False)
    assert data["question"]["en"] == "Was it easy?"
    assert data["question"]["ru"] == PRESETS[SurveyKind.CES]["question"]["ru"]


def test_bad_bodies_name_the_field(api):
    assert fields(api.post("/api/v1/surveys", {"kind": "star", "name": "x"})) == {"kind"}
    assert fields(api.post("/api/v1/surveys", {"kind": "nps", "name": ""})) == {"name"}
    response = api.post("/api/v1/surveys", {"kind": "nps", "name": "x", "question": {"de": "?"}})
    assert response.status_code == 400 and fields(response) == {"question.de.[key]"}
    assert fields(api.post("/api/v1/surveys", {"kind": "nps", "name": "x", "extra": 1})) == {
        "extra"
    }
    assert not Survey.objects.exists()


def test_patch_merges_texts_archives_and_refuses_null(api):
    survey = survey_create(SurveyKind.NPS, "After purchase")
    url = f"/api/v1/surveys/{survey.pk}"
    response = api.patch(url, {"thanks": {"ro": "Mulțumim!"}, "archived": True})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["thanks"]["ro"] == "Mulțumim!"
    assert data["thanks"]["en"] == PRESETS[SurveyKind.NPS]["thanks"]["en"]
    assert data["archived"] is True
    assert fields(api.patch(url, {"name": None})) == {"name"}
    assert fields(api.patch(url, {"question": {"en": " "}})) == {"question"}
    assert api.get(url).json()["name"] == "After purchase"
    assert api.get("/api/v1/surveys/999999").status_code == 404


def test_list_filters_by_kind_and_archived(api):
    nps = survey_create(SurveyKind.NPS, "A")
    csat = survey_create(SurveyKind.CSAT, "B")
    Survey.objects.filter(pk=csat.pk).update(archived_at=timezone.now())
    ids = [s["id"] for s in api.get("/api/v1/surveys").json()["results"]]
    assert ids == [csat.pk, nps.pk]
    assert [s["id"] for s in api.get("/api/v1/surveys?kind=nps").json()["results"]] == [nps.pk]
    only = api.get("/api/v1/surveys?archived=false").json()["results"]
    assert [s["id"] for s in only] == [nps.pk]
    assert fields(api.get("/api/v1/surveys?kind=star")) == {"kind"}


def test_send_to_customers_needs_the_send_scope_and_replays_with_the_key(api, client):
    survey = survey_create(SurveyKind.NPS, "After purchase")
    customer = CustomerFactory(external_id="crm-1")
    Consent.objects.create(customer=customer, channel="email", status="opted_in")
    CustomerFactory(external_id="crm-2")  # no consent: the policy refuses it
    url = f"/api/v1/surveys/{survey.pk}/send"
    _key, writer = api_key_create(name="writer", scopes=[ApiScope.READ, ApiScope.WRITE])
    refused = client.post(
        url, {"customers": ["crm-1"]}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {writer}",
    )  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    body = {"customers": ["crm-1", "crm-2"], "channel": "email"}
    first = api.post(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200, first.json()
    data = first.json()
    assert (data["sent"], data["unsent"]) == (1, 1)
    assert [s["customer_external_id"] for s in data["sends"]] == ["crm-1", "crm-2"]
    again = api.post(url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.json() == data and again["Idempotent-Replayed"] == "true"
    assert SurveySend.objects.count() == 2


def test_send_errors_name_the_field(api):
    survey = survey_create(SurveyKind.NPS, "After purchase")
    url = f"/api/v1/surveys/{survey.pk}/send"
    CustomerFactory(external_id="crm-1")
    response = api.post(url, {"customers": ["crm-1", "ghost"]})
    assert response.status_code == 400 and fields(response) == {"customers[1]"}
    assert fields(api.post(url, {"segment": 999999})) == {"segment"}
    assert api.post(url, {}).status_code == 400
    assert fields(api.post(url, {"customers": ["crm-1"], "channel": "voice"})) == {"channel"}
    Survey.objects.filter(pk=survey.pk).update(archived_at=timezone.now())
    assert fields(api.post(url, {"customers": ["crm-1"]})) == {"survey"}
    assert not SurveySend.objects.exists()


def test_send_to_a_segment_sends_to_its_members(api):
    survey = survey_create(SurveyKind.CSAT, "Support")
    segment = SegmentFactory()
    for _ in range(3):
        customer = CustomerFactory()
        Consent.objects.create(customer=customer, channel="email", status="opted_in")
        SegmentMembershipFactory(segment=segment, customer=customer)
    response = api.post(f"/api/v1/surveys/{survey.pk}/send", {"segment": segment.pk})
    assert response.status_code == 200, response.json()
    assert response.json()["sent"] == 3
    assert set(SurveySend.objects.values_list("source", flat=True)) == {"api"}


def test_scores_with_filters_and_groups(read_api):
    survey = survey_create(SurveyKind.NPS, "After purchase")
    make_answers(survey, NPS_SCORES, unanswered=6, sent_at=RECENT, journey_id=5)
    make_answers(survey, [0, 0], channel="sms", sent_at=RECENT)
    url = f"/api/v1/surveys/{survey.pk}/scores"
    data = read_api.get(url, {"channel": "email"}).json()
    total = data["total"]
    # The hand-checked set: NPS 30, ±48.4075, 10 of 16.
    assert (total["score"], total["score_low"], total["score_high"]) == (30.0, -18.4075, 78.4075)
    assert (total["responses"], total["sends"], total["response_rate"]) == (10, 16, 0.625)
    assert data["distribution"][10] == {"score": 10, "answers": 2}
    grouped = read_api.get(url, {"group_by": "channel"}).json()["groups"]
    assert [(g["key"], g["score"]) for g in grouped] == [("email", 30.0), ("sms", -100.0)]
    by_journey = read_api.get(url, {"group_by": "journey"}).json()["groups"]
    assert [g["key"] for g in by_journey] == ["5"]
    by_month = read_api.get(url, {"group_by": "period", "grain": "month"}).json()["groups"]
    assert by_month[0]["key"] == RECENT.date().replace(day=1).isoformat()
    since = (RECENT + timedelta(days=1)).isoformat()
    assert read_api.get(url, {"sent_since": since}).json()["total"]["sends"] == 0
    assert fields(read_api.get(url, {"group_by": "colour"})) == {"group_by"}
    assert fields(read_api.get(url, {"sent_since": "yesterday"})) == {"sent_since"}


def test_ces_scores_give_the_mean_with_its_t_interval(read_api):
    survey = survey_create(SurveyKind.CES, "Checkout")
    make_answers(survey, CES_SCORES, sent_at=RECENT)
    total = read_api.get(f"/api/v1/surveys/{survey.pk}/scores").json()["total"]
    # Mean 4.5 ± t(0.975, 9) × √(4.277778 / 10) = 4.5 ± 1.479556; net 40 − 30 = 10.
    assert (total["mean"], total["mean_low"], total["mean_high"]) == (4.5, 3.0204, 5.9796)
    assert total["score"] == 10.0


def test_answers_page_with_signed_cursors_and_filters(read_api):
    survey = survey_create(SurveyKind.NPS, "After purchase")
    other = survey_create(SurveyKind.CSAT, "Support")
    make_answers(survey, [10, 9, 3], sent_at=RECENT, comment="Why not")
    make_answers(survey, [6], channel="sms", sent_at=RECENT)
    make_answers(other, [5], sent_at=RECENT)
    url = f"/api/v1/surveys/{survey.pk}/answers"
    page = read_api.get(url, {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = read_api.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    assert {a["survey"] for a in page["results"] + rest["results"]} == {survey.pk}
    assert read_api.get(url, {"cursor": "forged"}).json()["code"] == "invalid_cursor"
    low = read_api.get(url, {"score_max": 6}).json()["results"]
    assert sorted(a["score"] for a in low) == [3, 6]
    sms = read_api.get(url, {"channel": "sms"}).json()["results"]
    assert [a["score"] for a in sms] == [6]
    assert fields(read_api.get(url, {"survey": other.pk})) == {"survey"}
    everything = read_api.get("/api/v1/survey-answers").json()["results"]
    assert len(everything) == 5
    csat = read_api.get("/api/v1/survey-answers", {"kind": "csat"}).json()["results"]
    assert [(a["survey"], a["kind"], a["score"]) for a in csat] == [(other.pk, "csat", 5)]
    commented = read_api.get("/api/v1/survey-answers", {"has_comment": "true"}).json()["results"]
    assert len(commented) == 3 and commented[0]["comment"] == "Why not"
    customer = everything[0]["customer_external_id"]
    mine = read_api.get("/api/v1/survey-answers", {"customer": customer}).json()["results"]
    assert [a["customer_external_id"] for a in mine] == [customer]
