"""What an SMS costs in parts (GSM-7 / UCS-2), and the opt-out line marketing SMS carry."""

import pytest

from channels.sms_encoding import sms_size
from channels.sms_optout import OPTOUT_LINES, sms_optout_line, sms_with_optout


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Price: 5$ @ Ångström, Ñoño, ΔΣΩ", "GSM-7", 31, 1),
    ],
)
def test_plain_latin_text_is_gsm7_160_in_one_part_153_per_part_after(text, encoding, units, parts):
    size = sms_size(text)
    assert (size.encoding, size.units, size.parts) == (encoding, units, parts)


def test_extension_characters_take_two_septets():
    assert sms_size("€" * 80).units == 160
    assert sms_size("€" * 80).parts == 1
    assert sms_size("€" * 81).parts == 2
    assert sms_size("[x]{y}").units == 10


def test_an_escape_and_its_character_are_never_split_across_parts():
    # 306 septets would fit two parts of 153, but the € cannot start at the 153rd septet.
    text = "a" * 152 + "€" + "a" * 152
    size = sms_size(text)
    assert (size.encoding, size.units) == ("GSM-7", 306)
    assert size.parts == 3


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_russian_text_is_ucs2_70_in_one_part_67_per_part_after(length, parts):
    size = sms_size("Ж" * length)
    assert (size.encoding, size.units, size.parts) == ("UCS-2", length, parts)


def test_one_character_outside_gsm7_turns_the_whole_text_ucs2():
    size = sms_size("a" * 100 + "ç")  # Ç is in GSM-7, ç is not
    assert (size.encoding, size.units, size.parts) == ("UCS-2", 101, 2)


def test_an_emoji_takes_two_ucs2_units():
    assert sms_size("Hi 😀").encoding == "UCS-2"
    assert sms_size("Hi 😀").units == 5
    assert sms_size("😀" * 35).parts == 1
    assert sms_size("😀" * 36).parts == 2


def test_an_emoji_is_never_split_across_ucs2_parts():
    # 134 units would fit two parts of 67, but a part holds 33 whole emoji (66 units), not 33½.
    size = sms_size("😀" * 67)
    assert (size.encoding, size.units, size.parts) == ("UCS-2", 134, 3)


def test_an_emoji_that_would_straddle_the_part_boundary_starts_the_next_part():
    # 66 + 2 + 66 = 134 units, but the emoji would take units 67 and 68: it moves to part two,
    # which then has no room for the last letter.
    straddling = sms_size("Ж" * 66 + "😀" + "Ж" * 66)
    assert (straddling.units, straddling.parts) == (134, 3)
    # One letter earlier the emoji ends part one exactly, and 134 units fit two parts.
    fitting = sms_size("Ж" * 65 + "😀" + "Ж" * 67)
    assert (fitting.units, fitting.parts) == (134, 2)


def test_cyrillic_mixed_with_emoji_counts_two_units_an_emoji():
    text = "Ваш заказ 1042 готов 🎉 Ждём вас! 😊"
    size = sms_size(text)
    assert (size.encoding, size.units, size.parts) == ("UCS-2", len(text) + 2, 1)
    # 26 letters + 20 emoji fill 66 units; the 21st emoji would straddle the boundary, so part
    # two starts with it and the 134 units take three parts.
    long = sms_size("Ж" * 26 + "😀" * 21 + "Ж" * 66)
    assert (long.encoding, long.units, long.parts) == ("UCS-2", 134, 3)


# --- opt-out line -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("ru-RU", "Отписаться: СТОП в ответ"),
        ("ru", "Отписаться: СТОП в ответ"),
        ("en-GB", "Reply STOP to opt out"),
        ("en_US", "Reply STOP to opt out"),
        ("ro-MD", "Dezabonare: raspunde STOP"),
        ("de-DE", "Reply STOP to opt out"),  # no German line: the site language (en)
        ("", "Reply STOP to opt out"),
        (None, "Reply STOP to opt out"),
    ],
)
def test_the_opt_out_line_is_in_the_customers_language(locale, line):
    assert sms_optout_line(locale) == line


def test_a_site_in_russian_gives_russian_to_customers_without_a_locale(settings):
    settings.LANGUAGE_CODE = "ru"
    assert sms_optout_line("") == "Отписаться: СТОП в ответ"


def test_the_line_goes_on_its_own_last_line():
    assert sms_with_optout("Скидка 20% до воскресенья  \n", "ru-RU") == (
        "Скидка 20% до воскресенья\nОтписаться: СТОП в ответ"
    )


def test_the_line_is_never_added_twice():
    once = sms_with_optout("Sale ends Sunday", "en")
    assert sms_with_optout(once, "en") == once
    assert sms_with_optout(once, "ru") == once  # any language's line counts
    assert sms_with_optout("Sale ends Sunday. reply stop  to OPT OUT", "en") == (
        "Sale ends Sunday. reply stop  to OPT OUT"
    )


def test_every_line_can_be_answered_with_a_stop_keyword():
    assert all("STOP" in line or "СТОП" in line for line in OPTOUT_LINES.values())


def test_the_english_and_romanian_lines_keep_a_latin_text_in_gsm7():
    for locale in ("en", "ro"):
        assert sms_size(sms_with_optout("Sale ends Sunday", locale)).encoding == "GSM-7"


def test_the_russian_line_is_counted_in_the_parts():
    body = "Ж" * 50
    with_line = sms_with_optout(body, "ru")
    assert sms_size(body).parts == 1
    assert sms_size(with_line).units == 50 + 1 + len("Отписаться: СТОП в ответ")
    assert sms_size(with_line).parts == 2
