import pytest

from customers.normalize import (
    normalize_address,
    normalize_currency,
    normalize_email,
    normalize_locale,
    normalize_phone,
    normalize_timezone,
)


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+373 69 123 456", "+37369123456"),
    ],
)
def test_phones_written_as_people_write_them_become_e164(written, e164):
    assert normalize_phone(written) == e164


def test_the_default_region_reads_local_numbers(settings):
    settings.DEFAULT_PHONE_REGION = "GB"
    assert normalize_phone("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize("bad", ["12", "abc", "+7 000 000 00 00", ""])
def test_impossible_phones_are_rejected(bad):
    with pytest.raises(ValueError):
        normalize_phone(bad)


def test_emails_are_lower_cased_and_checked():
    assert normalize_email(" Anna@Example.COM ") == "anna@example.com"
    with pytest.raises(ValueError):
        normalize_email("anna@")


def test_locales_become_bcp47_tags():
    assert [normalize_locale(v) for v in ("ru_RU", "ru-ru", "en", "ro-MD")] == [
        "ru-RU",
        "ru-RU",
        "en",
        "ro-MD",
    ]
    with pytest.raises(ValueError):
        normalize_locale("klingon-XX")


def test_time_zones_and_currencies_are_checked():
    assert normalize_timezone("Europe/Chisinau") == "Europe/Chisinau"
    assert normalize_currency("mdl") == "MDL"
    with pytest.raises(ValueError):
        normalize_timezone("Moscow")
    with pytest.raises(ValueError):
        normalize_currency("ABC")


def test_addresses_are_canonical_per_channel():
    assert normalize_address("whatsapp", "8 916 123-45-67") == "+79161234567"
    assert normalize_address("email", "A@B.ru") == "a@b.ru"
    assert normalize_address("telegram", "@kaskad_bot") == "@kaskad_bot"
    with pytest.raises(ValueError):
        normalize_address("telegram", "kaskad bot")
