"""`survey_send_many`: one survey to many customers, each on their channel, set-based.

Every invitation goes through channels' own batch path (`messages_send_many`): consent, caps,
quiet hours, tracking, the SMS opt-out line, the `send` queue and real providers. Channel "best"
(None) is the journeys' and broadcasts' choice: the customer's `preferred_channel` attribute,
then email, SMS, WhatsApp, Telegram, Viber, push, the first one the policy lets through.

What each channel gets:
- email: the question and one signed one-click link per score (`survey_score_url`);
- SMS, Telegram, Viber: the question with "reply with a number"; the reply comes back through
  the inbound pipeline (replies.py);
- WhatsApp: the same text inside the 24-hour customer service window; outside it the survey's
  approved template with the survey page's link as its parameter (none set: refused);
- push: the question, with the survey page as the notification's link.

A retry never sends twice: each send's message has the idempotency key `survey:<send id>`, and
with `idempotency_key_prefix` the send itself is keyed `<prefix>:<customer id>`, so a retried
task (a broadcast chunk, a journey step) gets the sends it made the first time back.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analytics.models.surveys import Survey, SurveySend, SurveySource
from analytics.surveys.email_body import survey_email_html
from analytics.surveys.texts import (
    chat_question,
    customer_language,
    push_hint,
    scale_ends,
    survey_text,
)
from analytics.surveys.tokens import TOKEN_MAX_AGE, survey_page_url, survey_score_url
from channels.models import MessageCategory, MessageSource, MessageStatus
from channels.services.bulk_send import OutgoingMessage, messages_send_many
from channels.services.policy import WHATSAPP_WINDOW_REFUSAL, SendDecision, send_decisions_many
from customers.models import Channel, Customer

# The order "best" tries, as journeys do (campaigns.journeys.definition.CHANNELS).
BEST_ORDER = (
    Channel.EMAIL,
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.TELEGRAM,
    Channel.VIBER,
    Channel.PUSH,
)
SURVEY_CHANNELS = frozenset(BEST_ORDER)
CHAT_CHANNELS = frozenset({Channel.SMS, Channel.TELEGRAM, Channel.VIBER, Channel.WHATSAPP})
SEND_CHUNK_SIZE = 1000  # customers per messages_send_many call (a broadcast chunk)
MESSAGE_SOURCES = {
    SurveySource.MANUAL: MessageSource.CAMPAIGN,
    SurveySource.BROADCAST: MessageSource.CAMPAIGN,
    SurveySource.JOURNEY: MessageSource.JOURNEY,
    SurveySource.CONVERSATION: MessageSource.AGENT,
    SurveySource.API: MessageSource.API,
}
NO_TEMPLATE_REFUSAL = (
    "whatsapp: outside the 24-hour customer service window and the survey has no approved "
    "template (survey.whatsapp_template)"
)


def survey_send(survey: Survey, customer: Customer, **kwargs) -> SurveySend:
    """`survey_send_many` for one customer."""
    return survey_send_many(survey, [customer], **kwargs)[0]


def survey_send_many(
    survey: Survey,
    customers: list[Customer],
    *,
    channel: str | None = None,
    source: str,
    broadcast_id: int | None = None,
    journey_id: int | None = None,
    journey_step: str = "",
    conversation_id: int | None = None,
    idempotency_key_prefix: str | None = None,
) -> list[SurveySend]:
    """One send per customer (in the order given, a customer listed twice once), each with its
    message stored queued (or suppressed with the policy's reason: then the send is `unsent`).
    Runs in the caller's transaction if there is one; the messages go to the queue after commit.
    A survey after a closed conversation is transactional (the customer asked us something);
    any other is marketing, under caps and quiet hours."""
    _check(survey, channel, source)
    unique = list({c.pk: c for c in customers}.values())
    sends: dict[int, SurveySend] = {}
    todo = unique
    if idempotency_key_prefix:
        keys = {f"{idempotency_key_prefix}:{c.pk}": c for c in unique}
        for send in SurveySend.objects.filter(idempotency_key__in=list(keys)):
            sends[send.customer_id] = send
        todo = [c for c in unique if c.pk not in sends]
    category = (
        MessageCategory.TRANSACTIONAL
        if source == SurveySource.CONVERSATION
        else MessageCategory.MARKETING
    )
    refs = {
        "broadcast_id": broadcast_id,
        "journey_id": journey_id,
        "journey_step": journey_step,
        "conversation_id": conversation_id,
    }
    for start in range(0, len(todo), SEND_CHUNK_SIZE):
        chunk = todo[start : start + SEND_CHUNK_SIZE]
        try:
            made = _send_chunk(
                survey,
                chunk,
                channel=channel,
                category=category,
                source=source,
                refs=refs,
                prefix=idempotency_key_prefix,
            )
        except IntegrityError:
            if not idempotency_key_prefix:
                raise
            # The same retry running at once stored some of these keys first: take its sends
            # and send only to the customers it has not reached.
            made = survey_send_many(
                survey,
                chunk,
                channel=channel,
                source=source,
                idempotency_key_prefix=idempotency_key_prefix,
                **refs,
            )
        for send in made:
            sends[send.customer_id] = send
    return [sends[c.pk] for c in unique]


def _check(survey: Survey, channel: str | None, source: str) -> None:
    errors = {}
    if survey.archived_at is not None:
        errors["survey"] = [_("This survey is archived; restore it to send it.")]
    if channel is not None and channel not in SURVEY_CHANNELS:
        errors["channel"] = [
            _("Surveys go by %(channels)s, or leave it empty for the best channel.")
            % {"channels": ", ".join(BEST_ORDER)}
        ]
    if source not in SurveySource.values:
        errors["source"] = [
            _("Choose one of: %(sources)s.") % {"sources": ", ".join(SurveySource.values)}
        ]
    if errors:
        raise ValidationError(errors)


def _send_chunk(survey, customers, *, channel, category, source, refs, prefix) -> list[SurveySend]:
    now = timezone.now()
    message_source = MESSAGE_SOURCES[source]
    chosen, decisions, templated = _channels(survey, customers, channel, category, message_source)
    with transaction.atomic():
        sends = SurveySend.objects.bulk_create(
            [
                SurveySend(
                    survey=survey,
                    customer=customer,
                    channel=chosen[customer.pk],
                    source=source,
                    sent_at=now,
                    expires_at=now + TOKEN_MAX_AGE,
                    idempotency_key=f"{prefix}:{customer.pk}" if prefix else None,
                    **refs,
                )
                for customer in customers
            ]
        )
        items = [
            _invitation(survey, send, customer, templated)
            for send, customer in zip(sends, customers, strict=True)
        ]
        messages = messages_send_many(
            items, category=category, source=message_source, decisions=decisions, now=now
        )
        for send, message in zip(sends, messages, strict=True):
            send.message = message
            if message.status == MessageStatus.SUPPRESSED:
                send.state = SurveySend.State.UNSENT
        SurveySend.objects.bulk_update(sends, ["message", "state"], batch_size=500)
    return sends


def _channels(survey, customers, channel, category, message_source):
    """({customer id: channel}, {(customer id, channel): decision}, {customer ids for whom
    WhatsApp goes as the approved template})."""
    candidates: dict[int, list[str]] = {}
    for customer in customers:
        if channel:
            candidates[customer.pk] = [channel]
            continue
        preferred = (customer.attributes or {}).get("preferred_channel")
        order = [preferred] if isinstance(preferred, str) and preferred in SURVEY_CHANNELS else []
        candidates[customer.pk] = order + [c for c in BEST_ORDER if c not in order]
    chosen: dict[int, str] = {}
    decisions: dict[tuple[int, str], SendDecision] = {}
    templated: set[int] = set()
    open_ = list(customers)
    round_ = 0
    while open_:
        by_channel: dict[str, list[Customer]] = defaultdict(list)
        for customer in open_:
            options = candidates[customer.pk]
            if round_ < len(options):
                by_channel[options[round_]].append(customer)
            else:  # nothing reaches them: the first channel's refusal stands
                chosen[customer.pk] = options[0]
        still = []
        for name, group in by_channel.items():
            found = _decisions(survey, group, name, category, message_source, templated)
            for customer in group:
                decisions[(customer.pk, name)] = found[customer.pk]
                if found[customer.pk].refusal:
                    still.append(customer)
                else:
                    chosen[customer.pk] = name
        open_ = still
        round_ += 1
    return chosen, decisions, templated


def _decisions(survey, customers, channel, category, message_source, templated: set[int]):
    found = send_decisions_many(customers, channel, category, source=message_source)
    if channel != Channel.WHATSAPP:
        return found
    outside = [c for c in customers if found[c.pk].refusal == WHATSAPP_WINDOW_REFUSAL]
    if not outside:
        return found
    if not survey.whatsapp_template:
        for customer in outside:
            found[customer.pk] = SendDecision(
                address=found[customer.pk].address, refusal=NO_TEMPLATE_REFUSAL
            )
        return found
    again = send_decisions_many(
        outside, channel, category, source=message_source, payload={"template": True}
    )
    for customer in outside:
        found[customer.pk] = again[customer.pk]
        templated.add(customer.pk)
    return found


def _invitation(survey: Survey, send: SurveySend, customer: Customer, templated) -> OutgoingMessage:
    language = customer_language(customer.locale)
    item = OutgoingMessage(
        customer=customer,
        channel=send.channel,
        source_ref=f"survey:{survey.pk}:{send.pk}",
        idempotency_key=f"survey:{send.pk}",
    )
    question = survey_text(survey, "question", language)
    if send.channel == Channel.EMAIL:
        item.subject = question
        context = _email_context(survey, send, language)
        with translation.override(language):
            item.html = survey_email_html(context)
            item.body = render_to_string("analytics/surveys_public/email.txt", context)
    elif send.channel == Channel.WHATSAPP and customer.pk in templated:
        url = survey_page_url(send.pk)
        template = survey.whatsapp_template
        item.body = f"{question}\n{url}"
        item.payload = {
            "template": {
                "name": template["name"],
                "language": template["language"],
                "params": [url],
            }
        }
    elif send.channel in CHAT_CHANNELS:
        item.body = chat_question(survey, language)
    else:  # push, and any channel without replies: the web page
        item.subject = question
        item.body = push_hint(language)
        item.payload = {"url": survey_page_url(send.pk)}
    return item


def _email_context(survey: Survey, send: SurveySend, language: str) -> dict:
    low, high = survey.scale
    with translation.override(language):
        low_word, high_word = scale_ends(survey.kind)
    return {
        "language": language,
        "question": survey_text(survey, "question", language),
        "scores": [(score, survey_score_url(send.pk, score)) for score in range(low, high + 1)],
        "cell_width": 100 // (high - low + 1),  # equal cells: "10" no wider than "9"
        "low_word": low_word,
        "high_word": high_word,
        "page_url": survey_page_url(send.pk),
    }
