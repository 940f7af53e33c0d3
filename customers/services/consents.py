from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import Consent, ConsentChange, ConsentStatus, Customer
from customers.services.segments import segments_refresh_enqueue_for_customers


@dataclass(frozen=True)
class ConsentUpdate:
    customer_id: int
    channel: str
    status: str
    source: str


# Called with every batch of real consent changes, inside the writing transaction. Apps to the
# right of customers/ register here in ready() (channels/ sends `consent.changed` to the CRM),
# so customers/ never imports them.
_change_listeners: list[Callable[[list["ConsentUpdate"]], object]] = []


def register_consent_listener(listener: Callable[[list["ConsentUpdate"]], object]) -> None:
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def consents_apply(*, updates: list[ConsentUpdate], now: datetime) -> list[ConsentUpdate]:
    """Set consents and log every real change. Returns the updates that changed something.

    Must run inside the caller's transaction; it reads the current statuses with a row lock.
    """
    if not updates:
        return []
    customer_ids = {u.customer_id for u in updates}
    current = {
        (c.customer_id, c.channel): c.status
        for c in Consent.objects.select_for_update().filter(customer_id__in=customer_ids)
    }
    changed = []
    for update in updates:
        previous = current.get((update.customer_id, update.channel), ConsentStatus.UNKNOWN)
        if previous != update.status:
            changed.append((update, previous))
            current[(update.customer_id, update.channel)] = update.status
    if not changed:
        return []
    # The last update per (customer, channel) wins, as the log records them in order.
    latest = {(u.customer_id, u.channel): u for u, _ in changed}
    Consent.objects.bulk_create(
        [
            Consent(
                customer_id=u.customer_id,
                channel=u.channel,
                status=u.status,
                source=u.source,
                updated_at=now,
            )
            for u in latest.values()
        ],
        update_conflicts=True,
        unique_fields=["customer", "channel"],
        update_fields=["status", "source", "updated_at"],
    )
    ConsentChange.objects.bulk_create(
        [
            ConsentChange(
                customer_id=u.customer_id,
                channel=u.channel,
                previous_status=previous,
                status=u.status,
                source=u.source,
                occurred_at=now,
            )
            for u, previous in changed
        ]
    )
    applied = [u for u, _ in changed]
    for listener in _change_listeners:
        listener(applied)
    return applied


@transaction.atomic
def consent_set(*, customer: Customer, channel: str, status: str, source: str) -> Consent:
    """Set one channel's consent for a customer, logging the change if there is one."""
    consents_set(customer=customer, statuses={channel: status}, source=source)
    consent = Consent.objects.filter(customer=customer, channel=channel).first()
    return consent or Consent(customer=customer, channel=channel, status=status, source=source)


@transaction.atomic
def consents_set(*, customer: Customer, statuses: dict[str, str], source: str) -> list[str]:
    """Set several channels' consents for a customer at once (a preference form), all or none,
    logging each change. Returns the channels that changed."""
    now = timezone.now()
    changed = consents_apply(
        updates=[
            ConsentUpdate(customer.pk, channel, status, source)
            for channel, status in statuses.items()
        ],
        now=now,
    )
    if changed:
        Customer.objects.filter(pk=customer.pk).update(updated_at=now)
        segments_refresh_enqueue_for_customers(customer_ids=[customer.pk], kinds={"consent"})
    return [u.channel for u in changed]
