"""`survey_answer_record`: the one way an answer is stored, whatever the channel.

One answer per send; a second call updates it (a changed score, the comment), in one transaction
with everything that follows from it:
- a `survey_answered` event through customers' event ingest (event id `survey:<send>:<revision>`,
  so each change is its own event and a replay stores nothing twice), which segments ("gave NPS
  ≤ 6": an event property filter) and journeys (an event trigger with `score` or `category`
  filters) read;
- a detractor's answer, when the survey says so, opens (or reuses) a support conversation on the
  send's channel with a note for the agents, at once, not in a later job.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analytics.models.surveys import SurveyAnswer, SurveyKind, SurveySend
from channels.models import Conversation
from channels.services.conversations import conversation_for_inbound
from channels.services.inbox import conversation_note_add
from customers.api.schemas import EventIn
from customers.models import Channel
from customers.services.events import event_ingest_batch

EVENT_NAME = "survey_answered"
EVENT_SOURCE = "analytics"
COMMENT_MAX_LENGTH = 2000
CONVERSATION_CHANNELS = frozenset(
    {Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.TELEGRAM, Channel.VIBER}
)
NEGATIVE = frozenset({"detractor", "dissatisfied", "hard"})


def score_category(kind: str, score: int) -> str:
    """NPS: promoter 9–10, passive 7–8, detractor 0–6. CSAT: satisfied 4–5, neutral 3,
    dissatisfied 1–2. CES: easy 6–7, neutral 4–5, hard 1–3."""
    if kind == SurveyKind.NPS:
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    if kind == SurveyKind.CSAT:
        return "satisfied" if score >= 4 else "neutral" if score == 3 else "dissatisfied"
    return "easy" if score >= 6 else "neutral" if score >= 4 else "hard"


def survey_answer_record(
    send: SurveySend, score: int | None = None, comment: str | None = None
) -> SurveyAnswer:
    """Store (or update) the answer to `send`. Raises ValidationError naming the field: a score
    off the survey's scale, a comment before any score, an expired or never-sent survey."""
    comment = _clean_comment(comment)
    now = timezone.now()
    with transaction.atomic():
        send = (
            SurveySend.objects.select_for_update()
            .select_related("survey", "customer")
            .get(pk=send.pk)
        )
        _check(send, score, comment, now)
        answer = SurveyAnswer.objects.filter(send=send).first()
        was_negative = answer is not None and _negative(send.survey.kind, answer.score)
        if answer is None:
            answer = SurveyAnswer.objects.create(
                send=send,
                survey=send.survey,
                customer=send.customer,
                channel=send.channel,
                score=score,
                comment=comment or "",
                answered_at=now,
                updated_at=now,
            )
        else:
            if score is not None:
                answer.score = score
            if comment is not None:
                answer.comment = comment
            answer.revision += 1
            answer.updated_at = now
            answer.save(update_fields=["score", "comment", "revision", "updated_at"])
        state = SurveySend.State.DONE if comment is not None else SurveySend.State.AWAITING_COMMENT
        if send.state != SurveySend.State.DONE or comment is not None:
            SurveySend.objects.filter(pk=send.pk).update(state=state)
            send.state = state
        _event(send, answer, now)
        if send.survey.open_conversation_on_detractor:
            _detractor_conversation(send, answer, was_negative, score, comment, now)
    return answer


def _clean_comment(comment) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise ValidationError({"comment": [_("The comment must be text.")]})
    comment = comment.replace("\x00", "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": [_("At most %(n)d characters, please.") % {"n": COMMENT_MAX_LENGTH}]}
        )
    return comment


def _check(send: SurveySend, score, comment, now) -> None:
    if send.state == SurveySend.State.UNSENT:
        raise ValidationError({"send": [_("This survey was never sent to the customer.")]})
    if send.expires_at <= now:
        raise ValidationError({"send": [_("This survey has expired.")]})
    if score is None and comment is None:
        raise ValidationError({"score": [_("Give a score or a comment.")]})
    if score is not None:
        low, high = send.survey.scale
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            raise ValidationError(
                {
                    "score": [
                        _("Give a whole number from %(low)d to %(high)d.")
                        % {"low": low, "high": high}
                    ]
                }
            )
    elif not SurveyAnswer.objects.filter(send=send).exists():
        raise ValidationError({"score": [_("Give the score before the comment.")]})


def _negative(kind: str, score: int) -> bool:
    return score_category(kind, score) in NEGATIVE


def _event(send: SurveySend, answer: SurveyAnswer, now) -> None:
    survey = send.survey
    properties = {
        "survey_id": survey.pk,
        "kind": survey.kind,
        "score": answer.score,
        "category": score_category(survey.kind, answer.score),
        "channel": send.channel,
        "send_id": send.pk,
        "comment_present": bool(answer.comment),
        "source": send.source,
        "revision": answer.revision,
    }
    for key in ("broadcast_id", "journey_id", "conversation_id"):
        if getattr(send, key) is not None:
            properties[key] = getattr(send, key)
    if send.journey_step:
        properties["journey_step"] = send.journey_step
    event_ingest_batch(
        items=[
            EventIn(
                event_id=f"survey:{send.pk}:{answer.revision}",
                customer_external_id=send.customer.external_id,
                name=EVENT_NAME,
                properties=properties,
                occurred_at=now,
                source=EVENT_SOURCE,
            )
        ],
        source=EVENT_SOURCE,
    )


def _detractor_conversation(send, answer, was_negative, score, comment, now) -> None:
    """A newly negative answer opens (or reuses) the customer's conversation with a note; a
    comment added later is noted in that same conversation."""
    kind = send.survey.kind
    becomes_negative = score is not None and _negative(kind, score) and not was_negative
    if becomes_negative:
        conversation, _changed = conversation_for_inbound(
            customer=send.customer, channel=_conversation_channel(send), at=now
        )
        answer.conversation_id = conversation.pk
        answer.save(update_fields=["conversation_id"])
    elif not (answer.conversation_id and comment):
        return
    conversation = Conversation.objects.filter(pk=answer.conversation_id).first()
    if conversation is None:
        return
    high = send.survey.scale[1]
    with translation.override(None):  # staff read notes in the site's language
        if becomes_negative:
            body = _("%(survey)s: %(kind)s %(score)d of %(high)d (%(category)s).") % {
                "survey": send.survey.name,
                "kind": send.survey.get_kind_display(),
                "score": answer.score,
                "high": high,
                "category": score_category(kind, answer.score),
            }
            if answer.comment:
                body += " " + _("Comment: %(comment)s") % {"comment": answer.comment}
        else:
            body = _("%(survey)s, the customer's comment: %(comment)s") % {
                "survey": send.survey.name,
                "comment": answer.comment,
            }
    conversation_note_add(conversation=conversation, body=body, actor=None)


def _conversation_channel(send: SurveySend) -> str:
    if send.channel in CONVERSATION_CHANNELS:
        return send.channel
    customer = send.customer
    return Channel.EMAIL if customer.email or not customer.phone else Channel.SMS
