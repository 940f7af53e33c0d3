"""Loyalty points: earn, spend, adjust, take back and expire, each in one transaction under the
customer's balance row lock. Functions a journey can call as actions.

Every change locks the customer's PointsBalance row (SELECT … FOR UPDATE), checks its idempotency
key, writes the entry and its allocations and moves the cached balance, whose CHECK (balance >= 0)
is the last guard against going below zero.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.audit import audit_record
from api.models import AuditAction
from campaigns.loyalty.models import (
    LoyaltySettings,
    PointsAllocation,
    PointsBalance,
    PointsEntry,
    Rounding,
)
from campaigns.loyalty.selectors import (
    _drawn,
    batches_annotated,
    batches_with_remaining,
    loyalty_settings_get,
    points_expiring_totals,
)
from customers.models import Customer, Order

Kind = PointsEntry.Kind
POINTS_ADJUSTED = "points.adjusted"  # a plain string: no AuditAction choice, no api migration
_ROUNDING = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
    Rounding.UP: ROUND_CEILING,
}


class InsufficientPoints(Exception):
    def __init__(self, balance: int, wanted: int) -> None:
        super().__init__(f"The balance is {balance} points; {wanted} cannot be spent.")
        self.balance = balance
        self.wanted = wanted


class KeyReused(Exception):
    """The idempotency key was used before for a different change."""


@dataclass(frozen=True)
class Change:
    entry: PointsEntry
    created: bool


def _lock_balance(customer_id: int) -> PointsBalance:
    PointsBalance.objects.bulk_create(
        [PointsBalance(customer_id=customer_id)], ignore_conflicts=True
    )
    return PointsBalance.objects.select_for_update().get(customer_id=customer_id)


def _existing(customer_id: int, key: str, kind: str, points: int | None) -> Change | None:
    if not key:
        return None
    entry = PointsEntry.objects.filter(customer_id=customer_id, idempotency_key=key).first()
    if entry is None:
        return None
    if entry.kind != kind or (points is not None and abs(entry.points) != points):
        raise KeyReused(f"The key {key!r} was used for another change.")
    return Change(entry, created=False)


def _move(balance: PointsBalance, delta: int) -> None:
    PointsBalance.objects.filter(pk=balance.pk).update(
        balance=F("balance") + delta, updated_at=timezone.now()
    )
    balance.balance += delta


def _add(customer_id, kind, points, *, reason, source, key, expires_at, now) -> Change:
    balance = _lock_balance(customer_id)
    found = _existing(customer_id, key, kind, points)
    if found:
        return found
    entry = PointsEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        points=points,
        reason=reason[:255],
        source=source[:100],
        expires_at=expires_at,
        idempotency_key=key,
        created_at=now,
    )
    _move(balance, points)
    return Change(entry, created=True)


def _draw(balance: PointsBalance, entry: PointsEntry, points: int, batches) -> int:
    """Allocate up to `points` from `batches` (soonest-expiring first); returns how many."""
    taken = 0
    rows = []
    for batch in batches:
        if taken >= points:
            break
        use = min(batch.remaining, points - taken)
        if use > 0:
            rows.append(PointsAllocation(entry=entry, batch=batch, points=use))
            taken += use
    PointsAllocation.objects.bulk_create(rows)
    return taken


def points_earn(
    *,
    customer: Customer | int,
    points: int,
    reason: str = "",
    source: str = "api",
    idempotency_key: str = "",
    kind: str = Kind.EARN,
    now: datetime | None = None,
) -> Change:
    """Add an earning batch that expires after the configured lifetime."""
    if points <= 0:
        raise ValueError("points must be positive")
    now = now or timezone.now()
    lifetime = timedelta(days=loyalty_settings_get().batch_lifetime_days)
    customer_id = getattr(customer, "pk", customer)
    with transaction.atomic():
        return _add(
            customer_id,
            kind,
            points,
            reason=reason,
            source=source,
            key=idempotency_key,
            expires_at=now + lifetime,
            now=now,
        )


def _take(customer_id, kind, points, *, reason, source, key, now, partial=False, batches=None):
    balance = _lock_balance(customer_id)
    found = _existing(customer_id, key, kind, None if partial else points)
    if found:
        return found
    available = batches if batches is not None else batches_with_remaining(customer_id, now=now)
    total = sum(b.remaining for b in available)
    if total < points and not partial:
        raise InsufficientPoints(balance=balance.balance, wanted=points)
    amount = min(points, total)
    if amount <= 0:
        return None
    entry = PointsEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        points=-amount,
        reason=reason[:255],
        source=source[:100],
        shortfall=points - amount,
        idempotency_key=key,
        created_at=now,
    )
    _draw(balance, entry, amount, available)
    _move(balance, -amount)
    return Change(entry, created=True)


def points_spend(
    *,
    customer: Customer | int,
    points: int,
    reason: str = "",
    source: str = "api",
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Change:
    """Spend from the soonest-expiring batches first; InsufficientPoints if the balance is short."""
    if points <= 0:
        raise ValueError("points must be positive")
    now = now or timezone.now()
    with transaction.atomic():
        return _take(
            getattr(customer, "pk", customer),
            Kind.SPEND,
            points,
            reason=reason,
            source=source,
            key=idempotency_key,
            now=now,
        )


def points_adjust(
    *,
    customer: Customer,
    points: int,
    reason: str,
    actor,
    ip_address=None,
    idempotency_key: str = "",
):
    """A staff correction, up (a new batch) or down (drawn like a spend), audited once; the form
    sends a key made when it was shown, so a double submit adjusts once."""
    if points == 0:
        raise ValueError("points must not be zero")
    now = timezone.now()
    with transaction.atomic():
        if points > 0:
            change = points_earn(
                customer=customer,
                points=points,
                reason=reason,
                source="staff",
                idempotency_key=idempotency_key,
                kind=Kind.ADJUST,
                now=now,
            )
        else:
            change = _take(
                customer.pk,
                Kind.ADJUST,
                -points,
                reason=reason,
                source="staff",
                key=idempotency_key,
                now=now,
            )
        if not change.created:
            return change
        audit_record(
            actor=actor,
            action=POINTS_ADJUSTED,
            object_type="points",
            object_id=change.entry.pk,
            object_repr=f"{points:+d}",
            customer_id=customer.pk,
            after={"points": points},
            reason=reason,
            ip_address=ip_address,
        )
    return change


def points_for_order(order: Order, *, settings: LoyaltySettings | None = None) -> int:
    settings = settings or loyalty_settings_get()
    raw = Decimal(order.total) * settings.points_per_unit
    return int(raw.quantize(Decimal(1), rounding=_ROUNDING.get(settings.rounding, ROUND_FLOOR)))


def points_orders_changed(order_ids: list[int]) -> None:
    """The customers hook: completed orders earn (once), cancelled or refunded ones take back."""
    settings = loyalty_settings_get()
    if not settings.enabled:
        return
    orders = Order.objects.filter(pk__in=order_ids).order_by("customer_id", "placed_at", "pk")
    for order in orders:
        if order.status == Order.Status.COMPLETED:
            points_order_earn(order=order, settings=settings)
        elif order.status in (Order.Status.CANCELLED, Order.Status.REFUNDED):
            points_order_reverse(order=order)


def points_order_earn(*, order: Order, settings: LoyaltySettings | None = None) -> Change | None:
    """Points for a completed order, once per order; the first such order also earns the
    `first_order` bonus when one is set."""
    settings = settings or loyalty_settings_get()
    points = points_for_order(order, settings=settings)
    with transaction.atomic():
        done = PointsEntry.objects.filter(
            customer_id=order.customer_id,
            idempotency_key__in=[f"order:{order.pk}:earn", f"order:{order.pk}:reverse"],
        ).exists()
        if points <= 0 or done:
            # Earned already (the rate may have changed since: it is not earned again), or
            # taken back: a reversed order never earns again, even if marked completed later.
            return None
        change = points_earn(
            customer=order.customer_id,
            points=points,
            reason=f"Order {order.external_id}",
            source=f"order:{order.external_id}",
            idempotency_key=f"order:{order.pk}:earn",
        )
        bonus = int(settings.event_bonuses.get("first_order") or 0)
        if change.created and bonus > 0:
            points_event_bonus(
                customer=order.customer_id,
                event_name="first_order",
                occasion="once",
                settings=settings,
            )
    return change


def points_order_reverse(*, order: Order) -> Change | None:
    """Take back what an order earned: only what remains of its batch (the rest was spent or
    expired); the part that could not be taken is kept on the entry as `shortfall`."""
    with transaction.atomic():
        _lock_balance(order.customer_id)
        earned = (
            batches_annotated(order.customer_id)
            .filter(idempotency_key=f"order:{order.pk}:earn")
            .first()
        )
        if earned is None:
            return None
        return _take(
            order.customer_id,
            Kind.REVERSE,
            earned.points,
            reason=f"Order {order.external_id} {order.status}",
            source=f"order:{order.external_id}",
            key=f"order:{order.pk}:reverse",
            now=timezone.now(),
            partial=True,
            batches=[earned],
        )


def points_event_bonus(
    *, customer, event_name: str, occasion: str, settings: LoyaltySettings | None = None
) -> Change | None:
    """The bonus set for `event_name` (e.g. birthday), once per customer per `occasion`
    (e.g. the year for a birthday, "once" for a first order)."""
    settings = settings or loyalty_settings_get()
    points = int(settings.event_bonuses.get(event_name) or 0)
    if points <= 0 or not settings.enabled:
        return None
    return points_earn(
        customer=customer,
        points=points,
        reason=f"Bonus: {event_name}",
        source=f"event:{event_name}",
        idempotency_key=f"bonus:{event_name}:{occasion}",
    )


def points_events_ingested(events: list[dict]) -> None:
    """The customers hook: an event whose name has a bonus (e.g. a CRM's yearly `birthday`)
    earns it, once per event id."""
    settings = loyalty_settings_get()
    if not settings.enabled or not settings.event_bonuses:
        return
    for event in events:
        if event["name"] in settings.event_bonuses:
            points_event_bonus(
                customer=event["customer_id"],
                event_name=event["name"],
                occasion=event["event_id"],
                settings=settings,
            )


def points_expire_due(*, now: datetime | None = None) -> int:
    """Expire what remains of every batch past its expiry; returns the points expired."""
    now = now or timezone.now()
    customer_ids = (
        PointsEntry.objects.filter(points__gt=0, expires_at__lte=now)
        .annotate(remaining=F("points") - Coalesce(_drawn(), Value(0)))
        .filter(remaining__gt=0)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    expired = 0
    for customer_id in list(customer_ids):
        with transaction.atomic():
            _lock_balance(customer_id)
            due = [
                b
                for b in batches_with_remaining(customer_id, now=None)
                if b.expires_at <= now and b.remaining > 0
            ]
            for batch in due:
                change = _take(
                    customer_id,
                    Kind.EXPIRE,
                    batch.remaining,
                    reason="Expired",
                    source="expiry",
                    key=f"expire:{batch.pk}",
                    now=now,
                    partial=True,
                    batches=[batch],
                )
                if change and change.created:
                    expired += -change.entry.points
    return expired


def loyalty_settings_update(*, actor, data: dict, ip_address=None) -> LoyaltySettings:
    fields = [
        "enabled",
        "points_per_unit",
        "rounding",
        "batch_lifetime_days",
        "event_bonuses",
        "warn_min_points",
        "warn_within_days",
    ]
    with transaction.atomic():
        settings = LoyaltySettings.objects.select_for_update().get(pk=loyalty_settings_get().pk)
        before = {f: getattr(settings, f) for f in fields}
        for name in fields:
            setattr(settings, name, data[name])
        settings.updated_at = timezone.now()
        settings.save()
        after = {f: getattr(settings, f) for f in fields}
        changed = [f for f in fields if before[f] != after[f]]
        if changed:
            audit_record(
                actor=actor,
                action=AuditAction.SETTINGS_CHANGED,
                object_type="loyalty_settings",
                object_id=settings.pk,
                object_repr="Loyalty settings",
                before={f: before[f] for f in changed},
                after={f: after[f] for f in changed},
                ip_address=ip_address,
            )
    return settings


def points_expiring_notify(*, now: datetime | None = None) -> int:
    """Write a `points_expiring` event {points, date} for each customer with at least M points
    expiring within N days. The event id names the customer and the soonest expiry date, so
    running again (tomorrow, or twice tonight) adds nothing until another batch comes due."""
    from customers.api.schemas import EventIn
    from customers.services.events import event_ingest_batch

    now = now or timezone.now()
    settings = loyalty_settings_get()
    due = [
        (cid, points, when)
        for cid, points, when in points_expiring_totals(
            now=now, within_days=settings.warn_within_days
        )
        if points >= max(settings.warn_min_points, 1)
    ]
    created = 0
    for start in range(0, len(due), 1000):
        chunk = due[start : start + 1000]
        external = dict(
            Customer.objects.filter(pk__in=[cid for cid, _, _ in chunk]).values_list(
                "pk", "external_id"
            )
        )
        items = [
            EventIn(
                event_id=f"points_expiring:{cid}:{when.date().isoformat()}",
                customer_external_id=external[cid],
                name="points_expiring",
                properties={"points": points, "date": when.date().isoformat()},
                occurred_at=now,
                source="loyalty",
            )
            for cid, points, when in chunk
            if cid in external
        ]
        if items:
            created += event_ingest_batch(items=items, source="loyalty").created
    return created
