"""Chat answers: a survey on SMS, Telegram, Viber or WhatsApp is answered by replying.

`survey_inbound_handle` is registered with channels' `on_inbound` (analytics' AppConfig.ready()),
so every inbound message has already been stored and filed in a support conversation by
channels' pipeline when it gets here. It looks for the customer's open survey on that channel:

- awaiting the score: a reply that is just a number on the scale ("7", " 7.", "10!") is the score;
  the follow-up question goes in the same thread. Anything else gets one re-ask, once per send;
- awaiting the comment: the next reply is the comment; then the thanks.

How an ordinary message from a customer with an open survey is treated: it is never taken out of
the support inbox. channels files every reply (a score too) in the customer's conversation, and
the survey only reads it; our re-ask, follow-up and thanks are sent in that conversation, so an
agent sees the whole exchange. A message that is not a score while one is awaited gets the one
re-ask and stays an ordinary message for the agents. After the thanks, a conversation that holds
nothing but this survey's exchange (opened by the survey reply, no other customer message, no
agent's answer) is resolved, so survey answers alone never sit in the open inbox; any other
conversation stays as it is. STOP / START keywords are channels' business and are left alone.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db import transaction

from analytics.models.surveys import SurveySend
from analytics.surveys.answers import survey_answer_record
from analytics.surveys.sending import CHAT_CHANNELS
from analytics.surveys.texts import chat_reask, customer_language, survey_text
from channels.models import (
    Conversation,
    InboundMessage,
    Message,
    MessageCategory,
    MessageSource,
)
from channels.services.conversations import conversation_update
from channels.services.inbound import inbound_keyword
from channels.services.messages import message_send

logger = logging.getLogger(__name__)

_SCORE = re.compile(r"^\s*(\d{1,2})\s*[.!)]?\s*$")
# A gateway's timestamp may run a little behind ours: a reply stamped just before the send was
# still written after reading it.
CLOCK_SLACK = timedelta(minutes=2)
OPEN_STATES = (SurveySend.State.AWAITING_SCORE, SurveySend.State.AWAITING_COMMENT)


def score_parse(body: str, low: int, high: int) -> int | None:
    """The score a reply gives, or None: one whole number on the scale, nothing else."""
    match = _SCORE.match(body or "")
    if not match:
        return None
    score = int(match.group(1))
    return score if low <= score <= high else None


def survey_inbound_handle(inbound_id: int, customer_id: int, channel: str) -> None:
    """channels' inbound listener (after the inbound message committed)."""
    if channel not in CHAT_CHANNELS or not customer_id:
        return
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None or inbound_keyword(inbound.body):
        return
    with transaction.atomic():
        send = (
            SurveySend.objects.select_for_update()
            .select_related("survey", "customer")
            .filter(
                customer_id=customer_id,
                channel=channel,
                state__in=OPEN_STATES,
                sent_at__lte=inbound.received_at + CLOCK_SLACK,
                expires_at__gt=inbound.received_at,
            )
            .order_by("-sent_at", "-pk")
            .first()
        )
        if send is None or inbound.pk in send.reply_inbound_ids:
            return
        if send.state == SurveySend.State.AWAITING_SCORE:
            _score_reply(send, inbound)
        else:
            _comment_reply(send, inbound)


def _score_reply(send: SurveySend, inbound: InboundMessage) -> None:
    low, high = send.survey.scale
    score = score_parse(inbound.body, low, high)
    language = customer_language(send.customer.locale)
    if score is None:
        if send.reasked:
            return  # one re-ask only: from now on it is an ordinary message for the agents
        SurveySend.objects.filter(pk=send.pk).update(reasked=True)
        _say(send, inbound, "reask", chat_reask(send.survey, language))
        return
    _consumed(send, inbound)
    survey_answer_record(send, score=score)
    _say(send, inbound, "follow_up", survey_text(send.survey, "follow_up", language))


def _comment_reply(send: SurveySend, inbound: InboundMessage) -> None:
    language = customer_language(send.customer.locale)
    _consumed(send, inbound)
    survey_answer_record(send, comment=inbound.body)
    _say(send, inbound, "thanks", survey_text(send.survey, "thanks", language))
    _resolve_if_only_survey(send, inbound)


def _consumed(send: SurveySend, inbound: InboundMessage) -> None:
    send.reply_inbound_ids = [*send.reply_inbound_ids, inbound.pk]
    SurveySend.objects.filter(pk=send.pk).update(reply_inbound_ids=send.reply_inbound_ids)


def _say(send: SurveySend, inbound: InboundMessage, what: str, body: str) -> Message:
    """Our line in the thread: transactional (the customer just wrote to us), in the
    conversation the reply was filed in, once per send whatever is retried."""
    message = message_send(
        customer=send.customer,
        channel=inbound.channel,
        category=MessageCategory.TRANSACTIONAL,
        source=MessageSource.AUTO_REPLY,
        body=body,
        source_ref=f"survey:{send.survey_id}:{send.pk}",
        idempotency_key=f"survey:{send.pk}:{what}",
        conversation=inbound.conversation,
        address=inbound.address,
    )
    if inbound.conversation_id:
        Conversation.objects.filter(
            pk=inbound.conversation_id, last_message_at__lt=message.queued_at
        ).update(last_message_at=message.queued_at)
    return message


def _resolve_if_only_survey(send: SurveySend, inbound: InboundMessage) -> None:
    conversation = inbound.conversation
    if conversation is None or conversation.status == Conversation.Status.RESOLVED:
        return
    if conversation.opened_at < send.sent_at:
        return  # it was there before the survey: the agents' thread, not ours
    others = (
        InboundMessage.objects.filter(conversation=conversation)
        .exclude(pk__in=send.reply_inbound_ids)
        .exists()
    )
    answered = (
        Message.objects.filter(conversation=conversation)
        .exclude(idempotency_key__startswith=f"survey:{send.pk}:")
        .exists()
    )
    if not others and not answered:
        conversation_update(conversation=conversation, status=Conversation.Status.RESOLVED)
