"""The public survey pages (/s/…): in the customer's language, no login, CSRF-checked, strict CSP,
friendly refusals for expired (410) and forged (400) links that store nothing; and one real
browser on a phone-size screen going through the whole survey."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from analytics.models.surveys import SurveyAnswer, SurveySend, SurveySource
from analytics.surveys.definitions import survey_create
from analytics.surveys.presets import PRESETS
from analytics.surveys.tokens import SALT, survey_page_url, survey_score_url, survey_token
from customers.models import Event
from tests.factories import CustomerFactory

BASE_URL = "https://kaskad.example"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.PUBLIC_BASE_URL = BASE_URL


def a_send(kind="nps", locale="en", **fields):
    now = timezone.now()
    return SurveySend.objects.create(
        survey=survey_create(kind, "Survey", open_conversation_on_detractor=False),
        customer=CustomerFactory(locale=locale),
        channel="push",
        source=SurveySource.MANUAL,
        sent_at=now,
        expires_at=now + timedelta(days=14),
        **fields,
    )


def path(url):
    return url.removeprefix(BASE_URL)


@pytest.mark.django_db
@pytest.mark.parametrize("locale", ["ru-RU", "en-US", "ro"])
def test_the_page_is_in_the_customers_language_with_the_scale_as_buttons(client, locale):
    send = a_send("csat", locale=locale)
    response = client.get(path(survey_page_url(send.pk)))
    language = locale[:2]
    content = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == language
    assert f'lang="{language}"' in content
    assert PRESETS["csat"]["question"][language] in content
    assert re.findall(r'name="score" value="(\d+)"', content) == ["1", "2", "3", "4", "5"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in content and "style=" not in content
    assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_choosing_a_score_then_writing_a_comment_stores_one_answer(client):
    send = a_send()
    page = path(survey_page_url(send.pk))
    response = client.post(page, {"score": "4"})
    assert response.status_code == 302
    comment_page = response["Location"]
    client.post(page, {"score": "5"})  # changed their mind
    response = client.post(comment_page, {"comment": "Slow site"})
    assert response.status_code == 302 and response["Location"].endswith("/thanks")
    assert SurveyAnswer.objects.values_list("score", "comment").get() == (5, "Slow site")
    assert Event.objects.filter(name="survey_answered").count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("score", ["11", "-1", "seven", ""])
def test_a_score_off_the_scale_shows_the_page_again_with_an_error(client, score):
    send = a_send()
    response = client.post(path(survey_page_url(send.pk)), {"score": score})
    assert response.status_code == 400
    assert "Choose one of the scores below." in response.content.decode()
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db
def test_a_too_long_comment_is_refused_on_the_field(client):
    send = a_send()
    client.post(path(survey_page_url(send.pk)), {"score": "9"})
    response = client.post(
        path(survey_page_url(send.pk)).rstrip("/") + "/comment", {"comment": "x" * 2001}
    )
    assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
    assert SurveyAnswer.objects.get().comment == ""


@pytest.mark.django_db
def test_the_comment_page_without_a_score_sends_the_customer_to_the_scale(client):
    send = a_send()
    token = survey_token(send.pk)
    response = client.get(f"/s/{token}/comment")
    assert response.status_code == 302 and response["Location"] == f"/s/{token}/"


@pytest.mark.django_db
def test_posting_without_the_csrf_token_is_refused(client):
    send = a_send()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(path(survey_page_url(send.pk)), {"score": "9"})
    assert response.status_code == 403
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db
def test_an_expired_link_is_a_friendly_410_and_stores_nothing(client):
    send = a_send(locale="ru")
    url = path(survey_score_url(send.pk, 3))
    later = timezone.now() + timedelta(days=14, seconds=5)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        response = client.get(url)
    assert response.status_code == 410
    assert response["Content-Language"] == "en"  # the token no longer says whose it is
    assert "14" in response.content.decode()
    assert not SurveyAnswer.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_a_send_past_its_expiry_is_a_410_in_the_customers_language(client):
    send = a_send(locale="ru")
    SurveySend.objects.filter(pk=send.pk).update(expires_at=timezone.now())
    response = client.get(path(survey_score_url(send.pk, 3)))
    assert response.status_code == 410 and response["Content-Language"] == "ru"
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forge",
    [
        lambda pk: survey_token(pk, 3)[:-2] + "xx",  # altered signature
        lambda pk: signing.dumps({"s": pk, "v": 3}, salt="another.salt"),
        lambda pk: signing.dumps({"s": pk, "v": 3}, salt=SALT, key="not-our-secret-key-000000"),
        lambda pk: signing.dumps({"s": str(pk), "v": 3}, salt=SALT),
        lambda pk: signing.dumps({"s": pk + 1000, "v": 3}, salt=SALT),  # no such send
        lambda pk: "garbage",
    ],
)
def test_a_forged_or_altered_link_is_a_friendly_400_and_stores_nothing(client, forge):
    send = a_send()
    response = client.get(f"/s/{forge(send.pk)}/v")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db
def test_the_email_link_of_a_score_off_the_scale_is_refused():
    send = a_send("csat")
    response = Client().get(f"/s/{signing.dumps({'s': send.pk, 'v': 9}, salt=SALT)}/v")
    assert response.status_code == 400 and not SurveyAnswer.objects.exists()


# --- a real browser on a phone ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_customer_on_a_phone_answers_the_survey_in_the_browser(browser, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    send = a_send("nps", locale="ru-RU")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    try:
        page.goto(survey_page_url(send.pk))
        assert page.locator("h1").inner_text() == PRESETS["nps"]["question"]["ru"]
        buttons = page.locator("button.score")
        assert buttons.count() == 11
        # Every score is big enough to tap and nothing sticks out of the screen.
        for box in (buttons.nth(i).bounding_box() for i in range(11)):
            assert box["width"] >= 44 and box["height"] >= 44
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        buttons.nth(10).tap()
        page.wait_for_url(re.compile(r"/comment$"))
        assert PRESETS["nps"]["follow_up"]["ru"] in page.locator("h1").inner_text()
        page.fill("#comment", "Всё пришло вовремя")
        page.locator(".actions button").tap()
        page.wait_for_url(re.compile(r"/thanks$"))
        assert PRESETS["nps"]["thanks"]["ru"] in page.locator("h1").inner_text()
    finally:
        context.close()
    assert not violations, violations
    assert SurveyAnswer.objects.values_list("score", "comment").get() == (10, "Всё пришло вовремя")
