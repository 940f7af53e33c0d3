"""The survey pages: the list with scores, new / edit / archive with errors on the fields, the
results with filters, the CSV tables and sending by hand; who may do what."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models.surveys import Survey, SurveyKind, SurveySend
from analytics.surveys.definitions import survey_create
from analytics.surveys.presets import PRESETS
from customers.models import Consent
from tests.analytics.test_survey_scores import NPS_SCORES, make_answers
from tests.factories import CustomerFactory, SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db
RECENT = timezone.now() - timedelta(days=20)


def nps_survey(name="After purchase"):
    return survey_create(SurveyKind.NPS, name)


def body(response) -> str:
    return response.content.decode()


def test_the_list_shows_each_surveys_score_answers_and_response_rate(client_as):
    survey = nps_survey()
    make_answers(survey, NPS_SCORES, unanswered=6, sent_at=RECENT)
    page = client_as("marketing").get(reverse("analytics:surveys"))
    assert page.status_code == 200
    html = body(page)
    assert "After purchase" in html
    assert "+30.0" in html  # 5 promoters − 2 detractors of 10
    assert "62.5 %" in html  # 10 answers of 16 sends


def test_support_may_not_open_or_change_surveys(client_as):
    survey = nps_survey()
    client = client_as("support")
    assert client.get(reverse("analytics:surveys")).status_code == 403
    assert client.get(reverse("analytics:survey", args=[survey.pk])).status_code == 403
    assert client.post(reverse("analytics:survey_new"), {"name": "x"}).status_code == 403
    assert client.post(reverse("analytics:survey_archive", args=[survey.pk])).status_code == 403


def test_a_new_survey_takes_the_kinds_ready_texts_where_left_empty(client_as):
    response = client_as("marketing").post(
        reverse("analytics:survey_new"),
        {"name": "Support CSAT", "kind": "csat", "question_en": "Happy with our help?"},
    )
    survey = Survey.objects.get(name="Support CSAT")
    assert response.status_code == 302
    assert response.url == reverse("analytics:survey", args=[survey.pk])
    assert survey.question["en"] == "Happy with our help?"
    assert survey.question["ru"] == PRESETS[SurveyKind.CSAT]["question"]["ru"]
    assert survey.thanks == PRESETS[SurveyKind.CSAT]["thanks"]


def test_a_survey_without_a_name_is_refused_on_the_field(client_as):
    response = client_as("marketing").post(reverse("analytics:survey_new"), {"kind": "nps"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not Survey.objects.exists()


def test_editing_keeps_the_kind_and_refuses_an_empty_language(client_as):
    survey = nps_survey()
    client = client_as("marketing")
    data = {
        f"{field}_{code}": getattr(survey, field)[code]
        for field in ("question", "follow_up", "thanks")
        for code in ("ru", "en", "ro")
    }
    data.update(name="Renamed", thanks_en="Thanks a lot!", open_conversation_on_detractor="on")
    response = client.post(reverse("analytics:survey_edit", args=[survey.pk]), data)
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.name, survey.thanks["en"], survey.kind) == ("Renamed", "Thanks a lot!", "nps")
    assert survey.open_conversation_on_detractor
    data["question_ro"] = " "
    response = client.post(reverse("analytics:survey_edit", args=[survey.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors["question_ro"]


def test_archive_and_restore(client_as):
    survey = nps_survey()
    client = client_as("marketing")
    client.post(reverse("analytics:survey_archive", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.archived_at is not None
    listed = client.get(reverse("analytics:surveys")).context["rows"]
    assert listed == []
    archived = client.get(reverse("analytics:surveys"), {"archived": "1"}).context["rows"]
    assert [row["survey"] for row in archived] == [survey]
    client.post(reverse("analytics:survey_archive", args=[survey.pk]), {"restore": "1"})
    survey.refresh_from_db()
    assert survey.archived_at is None


def test_results_show_the_score_tables_and_comments_linked_to_the_customer(client_as):
    survey = nps_survey()
    make_answers(survey, [10, 9, 3], channel="email", sent_at=RECENT, comment="Fast delivery")
    make_answers(survey, [0], channel="sms", sent_at=RECENT)
    page = client_as("marketing").get(reverse("analytics:survey", args=[survey.pk]))
    assert page.status_code == 200
    ctx = page.context
    # 2 promoters, 2 detractors of 4: NPS 0.
    assert ctx["headline"]["value"] == "0.0"
    assert [r["label"] for r in ctx["breakdown_rows"]] == ["Email", "SMS"]
    assert ctx["distribution_rows"][0]["answers"] == 1  # one 0
    answer = ctx["comments"][0]
    assert reverse("workspace:customer", args=[answer.customer.external_id]) in body(page)
    assert 'data-chart="line"' in body(page)


def test_results_filter_by_channel_and_segment(client_as):
    survey = nps_survey()
    vip = SegmentFactory()
    customers = [CustomerFactory() for _ in range(2)]
    SegmentMembershipFactory(segment=vip, customer=customers[0])
    make_answers(survey, [10, 0], channel="email", sent_at=RECENT, customers=customers)
    make_answers(survey, [0], channel="sms", sent_at=RECENT)
    client = client_as("marketing")
    url = reverse("analytics:survey", args=[survey.pk])
    assert client.get(url, {"channel": "sms"}).context["score"].responses == 1
    only_vip = client.get(url, {"segment": vip.pk}).context["score"]
    assert (only_vip.responses, only_vip.score) == (1, 100.0)


def test_the_breakdown_by_segment_journey_and_broadcast_names_and_links_each(client_as):
    survey = nps_survey()
    vip = SegmentFactory(name="VIP")
    customer = CustomerFactory()
    SegmentMembershipFactory(segment=vip, customer=customer)
    make_answers(survey, [10], sent_at=RECENT, customers=[customer], journey_id=987654)
    client = client_as("marketing")
    url = reverse("analytics:survey", args=[survey.pk])
    page = client.get(url, {"by": "segment"})
    assert not page.context["form"].is_bound  # the filters keep their defaults (by month)
    by_segment = page.context["breakdown_rows"]
    assert [(r["label"], r["responses"]) for r in by_segment] == [("VIP", 1)]
    assert by_segment[0]["url"] == reverse("customers:segment_members", args=[vip.pk])
    # A journey since deleted keeps its id as its name, without a link.
    by_journey = client.get(url, {"by": "journey"}).context["breakdown_rows"]
    assert [(r["label"], r["url"]) for r in by_journey] == [("#987654", "")]
    assert client.get(url, {"by": "broadcast"}).context["breakdown_rows"] == []
    assert client.get(url, {"by": "nonsense"}).context["by"] == "channel"
    response = client.get(
        reverse("analytics:survey_csv", args=[survey.pk, "breakdown"]), {"by": "segment"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "segment_id" and rows[1][:3] == [str(vip.pk), "1", "1"]


def test_an_end_before_the_start_is_an_error_on_the_field(client_as):
    survey = nps_survey()
    page = client_as("marketing").get(
        reverse("analytics:survey", args=[survey.pk]), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["end"]


def test_the_trend_table_exports_as_csv_with_raw_numbers(client_as):
    survey = nps_survey()
    make_answers(survey, NPS_SCORES, unanswered=6, sent_at=RECENT)
    client = client_as("marketing")
    response = client.get(reverse("analytics:survey_csv", args=[survey.pk, "trend"]))
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["period_start", "sends", "responses", "response_rate", "score"]
    assert rows[1][1:5] == ["16", "10", "0.625", "30.0"]
    response = client.get(reverse("analytics:survey_csv", args=[survey.pk, "distribution"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1:3] == [["0", "0"], ["1", "0"]] and rows[-1] == ["10", "2"]
    assert client.get(f"/app/analytics/surveys/{survey.pk}/other.csv").status_code == 404


def test_sending_by_hand_to_one_customer_by_crm_id(client_as):
    survey = nps_survey()
    customer = CustomerFactory(external_id="crm-77")
    Consent.objects.create(customer=customer, channel="email", status="opted_in")
    client = client_as("marketing")
    url = reverse("analytics:survey_send", args=[survey.pk])
    form = {"customer": "crm-77", "channel": "email", "nonce": "n-1"}
    assert client.post(url, form).status_code == 302
    client.post(url, form)  # the same form again: no second send
    send = SurveySend.objects.get()
    assert (send.customer, send.channel, send.source) == (customer, "email", "manual")
    assert send.message is not None and send.state != "unsent"


def test_sending_to_a_segment_reports_who_could_not_be_reached(client_as):
    survey = nps_survey()
    segment = SegmentFactory()
    reachable, unreachable = CustomerFactory(), CustomerFactory()
    Consent.objects.create(customer=reachable, channel="email", status="opted_in")
    for customer in (reachable, unreachable):
        SegmentMembershipFactory(segment=segment, customer=customer)
    response = client_as("marketing").post(
        reverse("analytics:survey_send", args=[survey.pk]),
        {"segment": segment.pk, "channel": "email", "nonce": "n-2"},
        follow=True,
    )
    states = sorted(SurveySend.objects.values_list("state", flat=True))
    assert states == ["score", "unsent"]
    texts = [str(m) for m in response.context["messages"]]
    assert any("1 customer could not be sent to" in t for t in texts)


def test_sending_needs_a_customer_or_a_segment_and_a_known_crm_id(client_as):
    survey = nps_survey()
    client = client_as("marketing")
    url = reverse("analytics:survey_send", args=[survey.pk])
    response = client.post(url, {"nonce": "n"})
    assert response.status_code == 400 and response.context["form"].errors["customer"]
    response = client.post(url, {"customer": "nobody", "nonce": "n"})
    assert response.status_code == 400 and response.context["form"].errors["customer"]
    assert not SurveySend.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_trend_chart_draws_and_the_channel_filter_applies(
    signed_in_page, live_server
):
    survey = nps_survey()
    make_answers(survey, [10, 9, 3], channel="email", sent_at=RECENT, comment="Fast delivery")
    make_answers(survey, [0], channel="sms", sent_at=RECENT)
    page = signed_in_page("marketing")
    page.goto(f"{live_server.url}/app/analytics/surveys/")
    page.click(f"text={survey.name}")
    page.wait_for_selector("#sv-trend-chart[data-drawn='1']")  # Chart.js drew it (no CSP error)
    assert page.locator("#sv-dist-chart[data-drawn='1']").count() == 1
    page.select_option("#id_channel", "sms")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**channel=sms**")
    assert page.locator(".tile-value").first.inner_text() == "−100.0"
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("a:has-text('Send')")
    page.fill("#id_customer", "nobody")
    page.click("button:has-text('Send')")
    assert "No customer has this CRM id." in page.locator(".has-error").inner_text()
