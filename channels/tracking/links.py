"""Rewriting a message's links into signed click links, and adding the open pixel to HTML email.

`tracked_content(message)` works for every channel: HTML hrefs are rewritten in `message.html`,
bare http(s) URLs in `message.body` (the text part of an email, an SMS, a Telegram, Viber or
WhatsApp text). It needs the message's id, so it runs once the row exists, before the message is
handed to a provider. It is idempotent: links already pointing at this Kaskad (click links,
unsubscribe and preference links) are left alone, and the pixel is added once.

Not rewritten: mailto:, tel: and any other non-http scheme; our own public links; and an <a> that
carries a `data-notrack` attribute (for links a recipient must see unchanged).
"""

from __future__ import annotations

import html as html_lib
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.html import escape

from channels.tracking.tokens import click_url, open_url, unsubscribe_url

if TYPE_CHECKING:
    from channels.models import Message

# <a ... href="…"> or href='…'; the attribute value is group "url".
_HREF = re.compile(
    r"""(?P<before><a\b[^>]*?\bhref\s*=\s*)(?P<quote>["'])(?P<url>.*?)(?P=quote)""",
    re.IGNORECASE | re.DOTALL,
)
# A bare URL in text. Stops at whitespace, quotes and angle brackets; trailing punctuation that
# ends a sentence ("see https://x.ru/a.") is trimmed afterwards.
_BARE_URL = re.compile(r"""https?://[^\s<>"'`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»"


def short_click_url(message_id: int, url: str) -> str:
    from channels.tracking.short_links import short_click_url as make

    return make(message_id, url)


def _ours(url: str) -> bool:
    """A link to this Kaskad: already tracked, or unsubscribe / preferences (never rewrite)."""
    return url.startswith(settings.PUBLIC_BASE_URL + "/")


def _trackable(url: str) -> bool:
    lowered = url.lower()
    return (lowered.startswith("http://") or lowered.startswith("https://")) and not _ours(url)


def tracked_html(message_id: int, html: str, link_for=click_url) -> str:
    def rewrite(match: re.Match) -> str:
        if re.search(r"\bdata-notrack\b", match.group("before"), re.IGNORECASE):
            return match.group(0)
        url = html_lib.unescape(match.group("url")).strip()
        if not _trackable(url):
            return match.group(0)
        quote = match.group("quote")
        return f"{match.group('before')}{quote}{escape(link_for(message_id, url))}{quote}"

    return _HREF.sub(rewrite, html)


def tracked_text(message_id: int, text: str, link_for=click_url) -> str:
    """Bare URLs in `text` as click links made by `link_for(message_id, url)`."""

    def rewrite(match: re.Match) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            # Keep a closing parenthesis that belongs to the URL (Wikipedia-style links).
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            tail = url[-1] + tail
            url = url[:-1]
        if not _trackable(url):
            return match.group(0)
        if url not in links:  # the same URL twice in one message gets one link
            links[url] = link_for(message_id, url)
        return links[url] + tail

    links: dict[str, str] = {}
    return _BARE_URL.sub(rewrite, text)


def with_open_pixel(message_id: int, html: str) -> str:
    pixel_src = open_url(message_id)
    if pixel_src in html:
        return html
    pixel = (
        f'<img src="{escape(pixel_src)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;" />'
    )
    # Inside <body> when there is one; mail clients drop what follows </html>.
    closing = re.search(r"</body\s*>", html, re.IGNORECASE)
    if closing:
        return html[: closing.start()] + pixel + html[closing.start() :]
    return html + pixel


# What a template's {{ unsubscribe_url }} renders to before the message has an id; replaced by the
# message's own one-click unsubscribe link when the message is stored (`with_unsubscribe_link`).
UNSUBSCRIBE_PLACEHOLDER = "/u/this-message"


def unsubscribe_placeholder() -> str:
    return settings.PUBLIC_BASE_URL + UNSUBSCRIBE_PLACEHOLDER


def with_unsubscribe_link(message_id: int, text: str) -> str:
    """`text` with the unsubscribe placeholder replaced by the message's own signed link."""
    placeholder = unsubscribe_placeholder()
    if not text or placeholder not in text:
        return text
    return text.replace(placeholder, unsubscribe_url(message_id))


def tracked_content(message: Message) -> tuple[str, str]:
    """(body, html) of `message` with click tracking on every link, and the open pixel added to
    HTML email. The message must be saved (its id goes into the links); it is not changed."""
    if message.pk is None:
        raise ValueError("tracked_content needs a saved message: its id signs the links")
    # Text channels get short links (every character of an SMS costs); email keeps signed ones.
    make = click_url if message.channel == "email" else short_click_url
    made: dict[str, str] = {}

    def link_for(message_id: int, url: str) -> str:
        # The same URL in the HTML and the text part of an email gets one link, signed once.
        if url not in made:
            made[url] = make(message_id, url)
        return made[url]

    body = with_unsubscribe_link(message.pk, message.body)
    body = tracked_text(message.pk, body, link_for) if body else body
    html = with_unsubscribe_link(message.pk, message.html)
    if html:
        html = tracked_html(message.pk, html, link_for)
        if message.channel == "email":
            html = with_open_pixel(message.pk, html)
    return body, html
