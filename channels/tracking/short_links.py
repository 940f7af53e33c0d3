"""Short click links for text channels: `/l/<code>`, about 35 characters with a short domain.

A signed click token holds the message id and the whole URL, over 100 characters, which in an SMS
can cost a part of its own. A short link keeps the URL in a TrackedLink row instead; the code is
random (62¹⁰ possibilities), so links cannot be guessed from one another.
"""

import secrets
import string

from channels.models import TrackedLink
from channels.tracking.tokens import public_url

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10


def short_click_url(message_id: int, url: str) -> str:
    link = TrackedLink.objects.create(code=_new_code(), message_id=message_id, url=url)
    return public_url(f"/l/{link.code}")


def short_link_resolve(code: str) -> TrackedLink | None:
    if len(code) != CODE_LENGTH or not all(c in CODE_ALPHABET for c in code):
        return None
    return TrackedLink.objects.filter(code=code).first()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
