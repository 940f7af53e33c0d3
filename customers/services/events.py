from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.errors import ValidationFailed
from customers.api.schemas import EventIn
from customers.hooks import events_ingested
from customers.models import Event
from customers.services.batch import (
    BatchResult,
    copy_rows,
    copy_supported,
    customers_resolve_or_create,
    duplicate_key_errors,
)
from customers.services.segments import segments_refresh_enqueue_for_customers


def event_ingest_batch(*, items: list[EventIn], source: str = "api") -> BatchResult:
    """Store events once each: an event_id already stored is counted unchanged and left as it is.

    Events for unknown customers create those customers; a replayed event does not, whatever
    customer it names now.
    """
    errors = duplicate_key_errors((item.event_id for item in items), "event_id")
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        stored = set(
            Event.objects.filter(event_id__in=[item.event_id for item in items]).values_list(
                "event_id", flat=True
            )
        )
        new_items = [item for item in items if item.event_id not in stored]
        customer_ids, customers_created = customers_resolve_or_create(
            (item.customer_external_id for item in new_items), now=now
        )
        new_events = [
            {
                "event_id": item.event_id,
                "customer_id": customer_ids[item.customer_external_id],
                "name": item.name,
                "properties": item.properties,
                "occurred_at": item.occurred_at,
                "received_at": now,
                "source": item.source or source,
            }
            for item in new_items
        ]
        _events_insert(new_events)
        events_ingested(new_events)
        segments_refresh_enqueue_for_customers(
            customer_ids=[e["customer_id"] for e in new_events],
            kinds={"events"},
            event_names=[e["name"] for e in new_events],
        )
        # Customers created on the fly may enter profile-based segments ("created in the last…").
        segments_refresh_enqueue_for_customers(
            customer_ids=[customer_ids[e] for e in customers_created], kinds={"profile"}
        )
    return BatchResult(
        created=len(new_events),
        unchanged=len(items) - len(new_events),
        customers_created=customers_created,
    )


def _events_insert(rows: list[dict[str, Any]]) -> None:
    if copy_supported():
        try:
            with transaction.atomic():  # a savepoint, so that a clash leaves the batch usable
                copy_rows(Event, rows)
            return
        except IntegrityError:
            pass  # a concurrent request stored one of these event_ids first: insert around it
    # A concurrent request may store the same event_id first; that one wins.
    Event.objects.bulk_create([Event(**row) for row in rows], ignore_conflicts=True)
