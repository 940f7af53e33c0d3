"""Surveys sent by journeys, broadcasts and closed conversations, which cannot import analytics.

`integrations_register()` runs in AnalyticsConfig.ready(): it gives campaigns' registry
(campaigns.journeys.extensions) the sender and the survey list, and listens to channels'
conversation closes. Each path sends through `survey_send_many`, keyed so a retry sends nothing
twice: journeys `journey:<journey>:<step>:<run>:<visit>:<customer>`, broadcasts
`broadcast:<id>:<customer>`, closes `conversation:<id>:<closed at>:<customer>`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.journeys.extensions import SurveyChoice, SurveySent

logger = logging.getLogger(__name__)


def survey_choices_all() -> list[SurveyChoice]:
    """Every survey, archived ones marked (the pickers leave them out, the checks name them)."""
    from analytics.models import Survey

    return [
        SurveyChoice(id=pk, name=name, kind=kind, archived=archived_at is not None)
        for pk, name, kind, archived_at in Survey.objects.order_by("name", "id").values_list(
            "pk", "name", "kind", "archived_at"
        )
    ]


def survey_send_for_campaigns(
    survey_id: int,
    customers: list,
    *,
    channel: str,
    key_prefix: str,
    source: str,
    journey_id: int | None = None,
    journey_step: str = "",
    broadcast_id: int | None = None,
) -> list[SurveySent]:
    """The sender campaigns call: `survey_send_many` with campaigns' channel words ("best" is
    None there), each send as what journeys and broadcasts need to know of it."""
    from analytics.models import Survey
    from analytics.surveys.sending import survey_send_many
    from channels.models import Message

    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return [SurveySent(None, "suppressed", "survey does not exist") for _c in customers]
    try:
        sends = survey_send_many(
            survey,
            customers,
            channel=None if channel in ("", "best") else channel,
            source=source,
            broadcast_id=broadcast_id,
            journey_id=journey_id,
            journey_step=journey_step,
            idempotency_key_prefix=key_prefix,
        )
    except ValidationError as exc:
        reason = "; ".join(str(m) for m in exc.messages)
        return [SurveySent(None, "suppressed", reason) for _c in customers]
    by_customer = {send.customer_id: send for send in sends}
    messages = {
        pk: (status, reason)
        for pk, status, reason in Message.objects.filter(
            pk__in=[s.message_id for s in sends if s.message_id]
        ).values_list("pk", "status", "status_reason")
    }
    out = []
    for customer in customers:
        send = by_customer[customer.pk]
        status, reason = messages.get(send.message_id, ("suppressed", "no message"))
        out.append(
            SurveySent(
                message_id=send.message_id, status=status, reason=reason, channel=send.channel
            )
        )
    return out


def survey_settings():
    """The one settings row (created with defaults)."""
    from analytics.models import SurveySettings

    return SurveySettings.objects.order_by("pk").first() or SurveySettings.objects.create()


def conversation_closed_survey(
    conversation_id: int, customer_id: int, channel: str, closed_at: str
) -> None:
    """After a support conversation is closed (committed): the settings' CSAT survey to the
    customer on the conversation's channel, once per close (a close is its `resolved_at`)."""
    from analytics.models import SurveySource
    from analytics.surveys.sending import SURVEY_CHANNELS, survey_send_many
    from customers.models import Customer

    survey = survey_settings().conversation_survey
    if survey is None or survey.archived_at is not None:
        return
    if channel not in SURVEY_CHANNELS:
        logger.info(
            "conversation %s closed on %s: no survey on that channel", conversation_id, channel
        )
        return
    customer = Customer.objects.filter(pk=customer_id, erased_at__isnull=True).first()
    if customer is None:
        return
    stamp = int(datetime.fromisoformat(closed_at).timestamp() * 1_000_000)
    with transaction.atomic():
        survey_send_many(
            survey,
            [customer],
            channel=channel,
            source=SurveySource.CONVERSATION,
            conversation_id=conversation_id,
            idempotency_key_prefix=f"conversation:{conversation_id}:{stamp}",
        )


def integrations_register() -> None:
    from campaigns.journeys.extensions import register_survey_choices, register_survey_sender
    from channels.listeners import on_conversation_closed

    register_survey_sender(survey_send_for_campaigns)
    register_survey_choices(survey_choices_all)
    on_conversation_closed(conversation_closed_survey)
