"""Loyalty points: an append-only ledger whose sum is the balance, never negative.

Positive entries (earn, or an upward adjustment) are *batches* that expire at `expires_at`.
Negative entries (spend, expire, reverse, a downward adjustment) draw from batches soonest-expiring
first; each draw is a PointsAllocation row, so a batch's remainder is its points minus its draws.
PointsBalance caches the sum per customer, updated in the same transaction under a row lock, with
a CHECK (balance >= 0): the database itself refuses a negative balance.
"""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class AppendOnly(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly(f"{self.model.__name__} rows are never updated")

    def delete(self):
        raise AppendOnly(f"{self.model.__name__} rows are never deleted")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly(f"{type(self).__name__} rows are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly(f"{type(self).__name__} rows are never deleted")


class Rounding(models.TextChoices):
    DOWN = "down", _("Down")
    NEAREST = "nearest", _("To the nearest")
    UP = "up", _("Up")


class LoyaltySettings(models.Model):
    """One row (pk=1): how points are earned, how long they last and when to warn."""

    enabled = models.BooleanField(
        _("earn points on orders and events"),
        default=False,
        help_text=_("Off until someone sets the rules; the API can earn and spend either way."),
    )
    points_per_unit = models.DecimalField(
        _("points per currency unit"), max_digits=8, decimal_places=2, default=1
    )
    rounding = models.CharField(
        _("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.DOWN
    )
    batch_lifetime_days = models.PositiveIntegerField(_("points last (days)"), default=365)
    event_bonuses = models.JSONField(_("bonuses per event"), default=dict, blank=True)
    warn_min_points = models.PositiveIntegerField(_("warn from (points)"), default=100)
    warn_within_days = models.PositiveIntegerField(_("warn days ahead"), default=14)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("loyalty settings")

    def __str__(self) -> str:
        return "Loyalty settings"


class PointsEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        SPEND = "spend", _("Spent")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Taken back")
        ADJUST = "adjust", _("Adjusted")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField(help_text="Signed: positive adds, negative takes away.")
    reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="order:<id>, event:<id>, api…")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Batches only.")
    shortfall = models.PositiveIntegerField(
        default=0, help_text="A reversal's points that were already spent and could not be taken."
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="points_entry_key_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(points=0), name="points_entry_points_nonzero"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="points_entry_history"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(points__gt=0),
                name="points_batch_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"

    @property
    def label(self) -> str:
        """What the entry was for, in the viewer's language where the system wrote it."""
        kind, _sep, ref = self.source.partition(":")
        if kind == "order" and ref:
            return _("Order %(id)s") % {"id": ref}
        if kind == "event" and ref:
            return _("Bonus: %(event)s") % {"event": ref}
        if self.source == "expiry":
            return ""
        return self.reason


class PointsAllocation(AppendOnlyModel):
    """A negative entry's draw on one batch: how much of the batch it used."""

    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="allocations")
    batch = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="draws")
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.points} from batch {self.batch_id}"


class PointsBalance(models.Model):
    """The cached sum of a customer's entries, locked for every change; never negative."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="points_balance_not_negative"
            )
        ]

    def __str__(self) -> str:
        return str(self.balance)
