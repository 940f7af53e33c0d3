"""Push subscriptions: a browser's (web push) or an app's (FCM) address for a customer.

The address is a `push` ChannelIdentity (the endpoint URL for web push, the registration token for
FCM), so push is found, consented and sent like every other channel; the PushSubscription beside it
holds what only push needs (its kind, and the browser's encryption keys).

A subscription belongs to whoever subscribed last: when another customer signs in on the same
browser and subscribes, the endpoint moves to them, since the notifications that browser shows
must be theirs. When a push service says a subscription is gone (web push 404/410, FCM
UNREGISTERED) `push_subscription_forget` deletes the identity, and with it the keys: that address
can never be delivered to again, and leaving it would make every later send fail the same way.
Sent messages keep the address they went to, so history is not lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.models import PushSubscription
from customers.models import Channel, ChannelIdentity, Customer
from customers.services.identities import identity_bind


@dataclass(frozen=True)
class PushSubscriptionResult:
    subscription: PushSubscription
    created: bool  # False when the same customer already had this exact subscription


def push_subscription_add(
    *,
    customer: Customer,
    kind: str,
    address: str,
    p256dh: str = "",
    auth: str = "",
) -> PushSubscriptionResult:
    """Store (or refresh) a push subscription for a customer. `address` is the web push endpoint
    or the FCM registration token; `p256dh` and `auth` are the browser's keys (web push only)."""
    web = kind == PushSubscription.Kind.WEB
    keys = {"p256dh": p256dh if web else "", "auth": auth if web else ""}
    for _ in range(2):  # a concurrent subscribe of the same address: the second pass updates it
        try:
            with transaction.atomic():
                return _add(customer, kind, address, keys)
        except IntegrityError:
            continue
    return _add(customer, kind, address, keys)


def _add(customer: Customer, kind: str, address: str, keys: dict[str, str]):
    binding = identity_bind(customer=customer, channel=Channel.PUSH, address=address)
    identity = binding.identity
    created = binding.created or binding.moved_from is not None  # new to this customer
    subscription = PushSubscription.objects.filter(identity=identity).first()
    if subscription is None:
        subscription = PushSubscription.objects.create(identity=identity, kind=kind, **keys)
        return PushSubscriptionResult(subscription, created=True)
    changed = subscription.kind != kind or any(
        getattr(subscription, name) != value for name, value in keys.items()
    )
    if changed:
        subscription.kind = kind
        subscription.p256dh, subscription.auth = keys["p256dh"], keys["auth"]
        subscription.created_at = timezone.now()
        subscription.save(update_fields=["kind", "p256dh", "auth", "created_at"])
    return PushSubscriptionResult(subscription, created=created)


def push_subscription_remove(*, customer: Customer, address: str) -> bool:
    """Unsubscribe one of the customer's push addresses. False if they have no such address."""
    deleted, _ = ChannelIdentity.objects.filter(
        customer=customer, channel=Channel.PUSH, address=address
    ).delete()
    return deleted > 0


def push_subscription_forget(*, address: str) -> bool:
    """Drop a subscription the push service reported gone (whoever it belongs to)."""
    deleted, _ = ChannelIdentity.objects.filter(channel=Channel.PUSH, address=address).delete()
    return deleted > 0


def push_subscriptions_for_addresses(addresses: Iterable[str]) -> dict[str, PushSubscription]:
    """The push subscriptions of these endpoints, by endpoint, in one query (a send batch)."""
    subscriptions = PushSubscription.objects.select_related("identity").filter(
        identity__channel=Channel.PUSH, identity__address__in=list(addresses)
    )
    return {subscription.identity.address: subscription for subscription in subscriptions}
