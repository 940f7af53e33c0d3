"""The Celery task that sends a survey to a batch of customers (ids in, `survey_send_many` does
the rest). Imported from analytics' AppConfig.ready(), since autodiscovery only looks at
`analytics.tasks`. A retried task sends nothing twice: give it an `idempotency_key_prefix`."""

from celery import shared_task

from analytics.models.surveys import Survey
from analytics.surveys.sending import survey_send_many
from customers.models import Customer


@shared_task(name="analytics.surveys.tasks.surveys_send", ignore_result=True)
def surveys_send(
    survey_id: int,
    customer_ids: list[int],
    *,
    source: str,
    channel: str | None = None,
    broadcast_id: int | None = None,
    journey_id: int | None = None,
    journey_step: str = "",
    conversation_id: int | None = None,
    idempotency_key_prefix: str | None = None,
) -> int:
    """Returns how many sends were made or found (a customer gone since is skipped)."""
    survey = Survey.objects.get(pk=survey_id)
    customers = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk"))
    return len(
        survey_send_many(
            survey,
            customers,
            channel=channel,
            source=source,
            broadcast_id=broadcast_id,
            journey_id=journey_id,
            journey_step=journey_step,
            conversation_id=conversation_id,
            idempotency_key_prefix=idempotency_key_prefix,
        )
    )
