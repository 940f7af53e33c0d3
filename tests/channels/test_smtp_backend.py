"""Kaskad's SMTP backend sends what Django's stock backend would, for less CPU.

It folds headers with a remembering compat32 policy (and writes short ASCII values as they are),
and gives multiparts a random boundary up front. These tests compare its output with the stdlib's
own, and send through a real SMTP server (aiosmtpd)."""

import random
import re
import string
from email.policy import compat32

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMultiAlternatives, get_connection

from channels.providers.smtp import REMEMBERING_COMPAT32, KaskadEmail, mime_prepare
from tests.channels.test_email import RecordingHandler, free_port

SUBJECT = "Весенняя распродажа: −20 % на всё до воскресенья, и ещё кое-что длинное"
FROM = "Каскад — магазин <news@kaskad.example>"


def an_email(email_class=EmailMultiAlternatives, **kwargs) -> EmailMultiAlternatives:
    email_message = email_class(
        subject=kwargs.pop("subject", SUBJECT),
        body=kwargs.pop("body", "Здравствуйте!\n\nСкидка 20 % до воскресенья.\n"),
        from_email=kwargs.pop("from_email", FROM),
        to=kwargs.pop("to", ["anna@example.com"]),
        headers=kwargs.pop("headers", {})
        | {
            "Message-ID": "<kaskad.1.ab12@kaskad.example>",
            "Date": "Wed, 25 Nov 2026 10:00:00 -0000",
            "List-Unsubscribe": "<https://kaskad.example/u/MQ:a-signed-token-that-is-long>, "
            "<mailto:unsubscribe@kaskad.example?subject=unsubscribe-1>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        **kwargs,
    )
    email_message.attach_alternative("<p>Скидка <b>20 %</b></p>" + "x" * 1200, "text/html")
    return email_message


def without_boundaries(raw: bytes) -> bytes:
    # The stdlib's boundaries are "=" * 15 + digits + "=="; Kaskad's "=_" + 28 hex digits. A
    # short boundary also fits on the Content-Type line, where the stdlib's long one is folded.
    raw = re.sub(rb"={15}\d+==|=_[0-9a-f]{28}", b"BOUNDARY", raw)
    return raw.replace(b';\r\n boundary="BOUNDARY"', b'; boundary="BOUNDARY"')


@pytest.mark.parametrize("with_attachment", [False, True])
def test_the_bytes_are_the_stock_ones_but_for_the_boundary(settings, with_attachment):
    first, second = an_email(), an_email()
    if with_attachment:
        for message in (first, second):
            message.attach("заказ.txt", "номер 1042", "text/plain")
    stock = first.message().as_bytes(linesep="\r\n")
    prepared = second.message()
    mime_prepare(prepared)

    ours = prepared.as_bytes(linesep="\r\n")

    assert without_boundaries(ours) == without_boundaries(stock)
    assert re.findall(rb'boundary="(=_[0-9a-f]{28})"', ours)  # one per multipart
    assert len(set(re.findall(rb'boundary="([^"]+)"', ours))) == (2 if with_attachment else 1)


def test_an_attached_email_gets_no_boundary_of_its_own():
    outer = an_email()
    outer.attach("forwarded.eml", an_email(subject="Forwarded"), "message/rfc822")
    prepared = outer.message()
    mime_prepare(prepared)

    attached = next(p for p in prepared.walk() if p.get_content_type() == "message/rfc822")
    assert attached.get_param("boundary") is None
    assert prepared.get_boundary().startswith("=_")


def test_each_email_gets_its_own_boundary():
    boundaries = set()
    for _ in range(3):
        prepared = an_email().message()
        mime_prepare(prepared)
        boundaries.add(prepared.get_boundary())
    assert len(boundaries) == 3


def test_remembered_folds_are_the_stdlib_folds_for_every_kind_of_header_value():
    policy = REMEMBERING_COMPAT32.clone(linesep="\r\n")
    stdlib = compat32.clone(linesep="\r\n")
    values = [
        ("Subject", "=?utf-8?b?0JLQtdGB0LXQvdC90Y/RjyDRgNCw0YHQv9GA0L7QtNCw0LbQsDog4oiSMjAgJSA=?="),
        ("Subject", "Spring  sale,\twith   odd\tspacing and a long tail " * 3),
        ("To", "anna@example.com"),
        ("To", " leading and trailing spaces "),
        ("From", "=?utf-8?b?0JrQsNGB0LrQsNC0?= <news@kaskad.example>"),
        ("X-Tab", "a\tb"),
        ("X-Empty", ""),
        ("X-Exact", "x" * (78 - len("X-Exact: "))),
        ("X-One-Over", "x" * (79 - len("X-One-Over: "))),
    ]
    for name, value in values:
        assert policy.fold_binary(name, value) == stdlib.fold_binary(name, value), (name, value)
        assert policy.fold_binary(name, value) == stdlib.fold_binary(name, value)  # remembered


def test_short_values_written_as_they_are_match_the_stdlib_on_random_values():
    policy = REMEMBERING_COMPAT32.clone(linesep="\r\n")
    stdlib = compat32.clone(linesep="\r\n")
    alphabet = string.ascii_letters + string.digits + "  \t,;:<>@.=?-_\"'()[]/+"
    pick = random.Random(20261125)
    for _ in range(20_000):
        name = pick.choice(["To", "Message-ID", "Date", "List-Unsubscribe", "X-A"])
        value = "".join(pick.choice(alphabet) for _ in range(pick.randint(0, 90)))
        assert policy.fold_binary(name, value) == stdlib.fold_binary(name, value), (name, value)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"subject": "Plain ASCII subject", "from_email": "news@kaskad.example"},
        {"headers": {"From": "Someone Else <else@kaskad.example>"}},
        {"subject": ""},
    ],
)
def test_kaskad_email_writes_the_same_mime_message_as_django(changes):
    ours = an_email(KaskadEmail, **changes).message()
    django = an_email(EmailMultiAlternatives, **changes).message()
    for message in (ours, django):
        message.set_boundary("BOUNDARY")
    assert ours.as_bytes(linesep="\r\n") == django.as_bytes(linesep="\r\n")
    again = an_email(KaskadEmail, **changes).message()  # the encodings come from the cache now
    again.set_boundary("BOUNDARY")
    assert again.as_bytes(linesep="\r\n") == django.as_bytes(linesep="\r\n")


@pytest.mark.parametrize("email_class", [EmailMultiAlternatives, KaskadEmail])
@pytest.mark.parametrize(
    "changes",
    [{"subject": "Hi\nBcc: victim@example.com"}, {"from_email": "a@b.example\nBcc: c@d.example"}],
)
def test_a_header_with_a_newline_is_still_refused(email_class, changes):
    from django.core.mail import BadHeaderError

    email_message = an_email(email_class, **changes)
    with pytest.raises(BadHeaderError):
        email_message.message()
    assert email_message.subject == changes.get("subject", SUBJECT)  # left as it was


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_emails_sent_through_a_real_smtp_server_read_back_as_written(smtp_server):
    handler, port = smtp_server
    connection = get_connection(
        "channels.providers.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        username="",
        password="",
        use_tls=False,
        use_ssl=False,
        timeout=5,
    )
    emails = [an_email(KaskadEmail, to=[f"reader{n}@example.com"]) for n in range(3)]

    assert connection.send_messages(emails) == 3

    assert [r["rcpt_tos"] for r in handler.received] == [
        [f"reader{n}@example.com"] for n in range(3)
    ]
    assert {r["mail_from"] for r in handler.received} == {"news@kaskad.example"}
    received = handler.received[2]["message"]
    # Django's stock backend folds a long encoded subject onto the next line too ("Subject: " then
    # the encoded words), which Python's parser reads back with a leading space.
    assert received["Subject"].strip() == SUBJECT
    assert received["From"] == FROM
    assert received["To"] == "reader2@example.com"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = (part.get_content().replace("\r\n", "\n") for part in received.iter_parts())
    assert text == "Здравствуйте!\n\nСкидка 20 % до воскресенья.\n"
    assert html.startswith("<p>Скидка <b>20 %</b></p>xxx")
    boundaries = {r["message"].get_boundary() for r in handler.received}
    assert len(boundaries) == 3
