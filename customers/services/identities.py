"""Binding one channel identity (channel + address) to a customer.

Outside the bulk customer API (which writes identities set-based in customers/services/
customers.py), identities are created or moved one at a time: a Telegram chat opening a deep link,
a browser subscribing to push, an unknown number writing in. Each of these must lock the row,
survive a concurrent creator of the same address, and, above all, tell the segments: rules such as
`{"identity": "push"}` and `{"reachable": "telegram"}` read identities, and a change nobody
enqueues a refresh for leaves dynamic segments stale until the next full refresh. `identity_bind`
is the one place that does all of this, so no caller can forget a part of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from customers.models import ChannelIdentity, Customer
from customers.services.segments import segments_refresh_enqueue_for_customers


@dataclass(frozen=True)
class IdentityBinding:
    identity: ChannelIdentity
    created: bool  # the address was new: no customer had it before
    moved_from: int | None  # the id of the customer it was taken from, when it moved


@transaction.atomic
def identity_bind(
    *, customer: Customer, channel: str, address: str, move: bool = True
) -> IdentityBinding:
    """Make `address` on `channel` belong to `customer`, and refresh segments if that changed.

    The address is created when no customer has it, moved when another customer has it, and left
    alone when `customer` already has it. With `move=False` an address another customer already
    holds stays with them (`identity.customer_id` then names them), for callers that only add
    addresses and must not take one away. `address` must already be normalised for the channel.

    Runs inside the caller's transaction (a savepoint when there is one): the identity row stays
    locked until it commits, and the segment refresh of the customers whose identities changed
    (the new owner, and the old one on a move) is enqueued for after the commit.
    """
    identity = _locked(channel, address)
    created = False
    if identity is None:
        try:
            with transaction.atomic():
                identity = ChannelIdentity.objects.create(
                    customer=customer, channel=channel, address=address
                )
            created = True
        except IntegrityError:
            # A concurrent binder created it first (its transaction has committed, or the insert
            # would still be waiting); from here on it is an existing identity like any other.
            identity = _locked(channel, address)
            if identity is None:  # ...and it is gone again already
                raise
    moved_from = None
    if move and not created and identity.customer_id != customer.pk:
        moved_from = identity.customer_id
        identity.customer = customer
        identity.save(update_fields=["customer"])
    if created:
        changed = {customer.pk}
    elif moved_from is not None:
        changed = {moved_from, customer.pk}
    else:
        changed = set()
    if changed:
        segments_refresh_enqueue_for_customers(customer_ids=changed, kinds={"identities"})
    return IdentityBinding(identity=identity, created=created, moved_from=moved_from)


def _locked(channel: str, address: str) -> ChannelIdentity | None:
    return (
        ChannelIdentity.objects.select_for_update().filter(channel=channel, address=address).first()
    )
