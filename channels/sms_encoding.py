"""How many parts an SMS takes: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

A single SMS holds 160 GSM-7 characters or 70 UCS-2 code units; a concatenated one loses room to
its header: 153 and 67 per part. Characters of the GSM extension table (e.g. € [ ] { }) take two
septets. UCS-2 counts UTF-16 code units, so an emoji takes two. A Russian text is UCS-2: 70
characters in one part, 134 in two.
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
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return SmsSize("GSM-7", units, _parts(units, GSM7_SINGLE, GSM7_PART, extension_aware=text))
    units = len(text.encode("utf-16-le")) // 2
    return SmsSize("UCS-2", units, _parts(units, UCS2_SINGLE, UCS2_PART))


def _parts(units: int, single: int, per_part: int, extension_aware: str = "") -> int:
    if units <= single:
        return 1
    if not extension_aware:
        return -(-units // per_part)
    # An escape character and its extension character are never split across two parts.
    parts, used = 1, 0
    for ch in extension_aware:
        size = 2 if ch in GSM7_EXTENSION else 1
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts
