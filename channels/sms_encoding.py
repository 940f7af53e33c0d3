"""How many parts an SMS takes: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

A single SMS holds 160 GSM-7 characters or 70 UCS-2 code units; a concatenated one loses room to
its header: 153 and 67 per part. Characters of the GSM extension table (e.g. € [ ] { }) take two
septets. UCS-2 counts UTF-16 code units, so an emoji takes two. A Russian text is UCS-2: 70
characters in one part, 134 in two. Neither two-unit kind is split at a part boundary, so such a
part may hold one unit less.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int


def sms_size(text: str) -> SmsSize:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SmsSize("GSM-7", sum(sizes), _parts(sizes, GSM7_SINGLE, GSM7_PART))
    # A character beyond the Basic Multilingual Plane (most emoji) is a UTF-16 surrogate pair.
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsSize("UCS-2", sum(sizes), _parts(sizes, UCS2_SINGLE, UCS2_PART))


def _parts(sizes: list[int], single: int, per_part: int) -> int:
    if sum(sizes) <= single:
        return 1
    # A two-unit character is never split across two parts: a GSM-7 escape and its extension
    # character, or the two halves of a UCS-2 surrogate pair (a split emoji shows as garbage).
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts
