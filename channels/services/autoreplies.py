"""Auto-replies: the 24/7 answers to keywords, patterns and messages outside business hours.

Rules are AutoReplyRule rows, tried in priority order (lower first); the first that matches
answers, so an inbound message gets at most one auto-reply. A rule with an empty channel applies
to every channel.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import datetime, timedelta

from channels.models import AutoReplyRule, Message, MessageSource

logger = logging.getLogger(__name__)

# The out-of-hours answer is sent at most once per conversation in this window: a customer who
# writes five messages at night gets one "we are closed", not five.
OUT_OF_HOURS_REPEAT_AFTER = timedelta(hours=12)


def auto_reply_for(
    *, channel: str, body: str, now: datetime, conversation=None
) -> AutoReplyRule | None:
    """The rule that answers `body` on `channel` at `now`, or None.

    With `conversation`, an out-of-hours rule that already answered in it within the last
    12 hours is skipped, so a lower-priority rule (a keyword) may still answer.
    """
    # One small query per inbound message; inbound traffic is far lighter than outbound, and
    # reading the rows each time means an admin's edit applies to the very next message.
    for rule in AutoReplyRule.objects.filter(is_active=True).order_by("priority", "id"):
        if rule.channel and rule.channel != channel:
            continue
        if rule.match == AutoReplyRule.Match.KEYWORD:
            matched = keyword_matches(rule.pattern, body)
        elif rule.match == AutoReplyRule.Match.PATTERN:
            matched = _pattern_matches(rule, body)
        elif rule.match == AutoReplyRule.Match.OUT_OF_HOURS:
            matched = is_out_of_hours(rule, now) and not (
                conversation is not None and _answered_recently(rule, conversation, now)
            )
        else:
            matched = False
        if matched:
            return rule
    return None


def auto_reply_source_ref(rule: AutoReplyRule) -> str:
    return f"auto_reply:{rule.pk}"


def keywords_of(pattern: str) -> list[str]:
    return [word.strip() for word in pattern.split(",") if word.strip()]


def keyword_matches(pattern: str, body: str) -> bool:
    """Any of the comma-separated keywords appears in `body` as a whole word (or phrase).

    `\\w` is Unicode-aware in Python, so the word boundaries work for Cyrillic too: "цена"
    matches "Какая цена?" but not "оценка". Words of a phrase may be apart by any whitespace.
    """
    text = body.casefold()
    for keyword in keywords_of(pattern):
        phrase = r"\s+".join(re.escape(word) for word in keyword.casefold().split())
        if re.search(rf"(?<!\w){phrase}(?!\w)", text):
            return True
    return False


def is_out_of_hours(rule: AutoReplyRule, now: datetime) -> bool:
    """Whether `now` falls outside the rule's business hours, in the rule's time zone.

    Business hours may cross midnight (opens 20:00, closes 04:00); then the day they open on is
    the one that must be a business day. Without hours set, every time on a business day is open.
    """
    try:
        zone = zoneinfo.ZoneInfo(rule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(zone)
    days = set(rule.business_days or [])
    opens, closes = rule.opens_at, rule.closes_at
    if opens is None or closes is None or opens == closes:
        return local.weekday() not in days
    t = local.time()
    if opens < closes:
        return not (local.weekday() in days and opens <= t < closes)
    if t >= opens:
        return local.weekday() not in days
    if t < closes:
        return (local.weekday() - 1) % 7 not in days
    return True


def _pattern_matches(rule: AutoReplyRule, body: str) -> bool:
    try:
        return re.search(rule.pattern, body, re.IGNORECASE) is not None
    except re.error:
        # The admin form refuses invalid patterns; a row written some other way must not stop
        # the other rules from answering.
        logger.warning("auto-reply rule %s has an invalid pattern; skipped", rule.pk)
        return False


def _answered_recently(rule: AutoReplyRule, conversation, now: datetime) -> bool:
    return Message.objects.filter(
        conversation=conversation,
        source=MessageSource.AUTO_REPLY,
        source_ref=auto_reply_source_ref(rule),
        queued_at__gt=now - OUT_OF_HOURS_REPEAT_AFTER,
    ).exists()
