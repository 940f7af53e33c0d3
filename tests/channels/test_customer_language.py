"""The pages a customer reaches from a message speak the customer's language (ru, en or ro),
whatever the browser or a staff member's choice says."""

import pytest
from django.test import Client

from channels.models import Message, MessageStatus
from channels.tracking.services import customer_language
from channels.tracking.tokens import preferences_url, unsubscribe_url

pytestmark = pytest.mark.django_db

BASE_URL = "https://kaskad.example"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}

# What each page says in each language: its heading, and a channel name it shows.
PREFERENCES = {
    "ru": ("Ваши подписки", "Электронная почта", "Отметьте каналы"),
    "ro": ("Abonamentele dumneavoastră", "Apeluri telefonice", "Bifați canalele"),
    "en": ("Your subscriptions", "Phone calls", "Tick the channels"),
}
UNSUBSCRIBE = {"ru": "Отписаться", "ro": "Dezabonare", "en": "Unsubscribe"}
UNSUBSCRIBED = {
    "ru": ("Вы отписаны", "Электронная почта"),
    "ro": ("V-ați dezabonat", "E-mail"),
    "en": ("You are unsubscribed", "Email"),
}
LOCALES = [("ru-RU", "ru"), ("ro-MD", "ro"), ("en-GB", "en")]


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE_URL


def browser() -> Client:
    """A browser that asks for German, with an English language cookie: both are ignored."""
    client = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    client.cookies["django_language"] = "en"
    return client


def sent_message(customer) -> Message:
    return Message.objects.create(
        customer=customer,
        channel="email",
        address=customer.email,
        category="marketing",
        source="campaign",
        status=MessageStatus.SENT,
        provider="email",
    )


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ru-RU", "ru"),
        ("ru", "ru"),
        ("RO_ro", "ro"),
        ("ro-MD", "ro"),
        ("en-US", "en"),
        ("de-DE", "en"),
        ("", "en"),
        ("x", "en"),
    ],
)
def test_the_page_language_comes_from_the_customer_locale(locale, expected):
    assert customer_language(locale) == expected


@pytest.mark.parametrize(("locale", "language"), LOCALES)
def test_the_preference_page_is_in_the_customer_language(reachable_customer, locale, language):
    customer = reachable_customer("email", locale=locale)

    response = browser().get(preferences_url(customer.pk).removeprefix(BASE_URL))

    assert response.status_code == 200
    page = response.content.decode()
    for text in PREFERENCES[language]:
        assert text in page
    assert f'<html lang="{language}">' in page
    assert response["Content-Language"] == language


def test_a_russian_customer_sees_no_english_on_the_preference_page(reachable_customer):
    customer = reachable_customer("email", locale="ru-RU")

    page = browser().get(preferences_url(customer.pk).removeprefix(BASE_URL)).content.decode()

    for english in ("Your subscriptions", "Tick the channels", "Save", "Phone calls", "Email<"):
        assert english not in page


@pytest.mark.parametrize(("locale", "language"), LOCALES)
def test_unsubscribing_speaks_the_customer_language(reachable_customer, locale, language):
    customer = reachable_customer("email", locale=locale)
    path = unsubscribe_url(sent_message(customer).pk).removeprefix(BASE_URL)
    client = browser()

    confirm = client.get(path)
    done = client.post(path, ONE_CLICK)

    assert confirm.status_code == 200
    assert UNSUBSCRIBE[language] in confirm.content.decode()
    assert done.status_code == 200
    for text in UNSUBSCRIBED[language]:
        assert text in done.content.decode()
    assert done["Content-Language"] == language


def test_the_public_pages_keep_to_the_content_security_policy(reachable_customer):
    """No inline style: the page's CSS is a file of this origin."""
    customer = reachable_customer("email", locale="ru-RU")

    response = browser().get(preferences_url(customer.pk).removeprefix(BASE_URL))

    page = response.content.decode()
    assert "<style" not in page and "style=" not in page
    assert "channels/css/public" in page
    assert "default-src 'self'" in response["Content-Security-Policy"]
