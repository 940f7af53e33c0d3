"""Promo code pools and their codes: available → reserved → issued → redeemed, or expired."""

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

# Without look-alikes: no 0/O, 1/I/L.
DEFAULT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOKALIKES = frozenset("0O1IL")


class PromoPool(models.Model):
    class Kind(models.TextChoices):
        UNIQUE = "unique", _("Unique single-use codes")
        SHARED = "shared", _("One shared code")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.UNIQUE)
    code_length = models.PositiveSmallIntegerField(_("code length"), default=8)
    alphabet = models.CharField(_("alphabet"), max_length=64, default=DEFAULT_ALPHABET)
    prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    # For shared pools: how many orders one customer may redeem the shared code with.
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), default=1)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    discount_description = models.CharField(_("discount description"), max_length=300, blank=True)
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=100)
    # Set when the low-stock alert went out; cleared when stock is back above the threshold, so
    # the CRM hears once per crossing.
    low_stock_alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="promo_pool_window",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_valid_at(self, moment) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_until is None or moment < self.valid_until
        )


class PromoCodeStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved")
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")


class PromoCode(models.Model):
    pool = models.ForeignKey(PromoPool, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64)  # upper-case, as normalised by promo_code_normalise
    status = models.CharField(
        max_length=10, choices=PromoCodeStatus.choices, default=PromoCodeStatus.AVAILABLE
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="promo_codes",
        db_index=False,  # promo_code_customer covers it
    )
    message = models.ForeignKey(
        "kaskad_channels.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # promo_code_reserved covers the sweep
    )
    reserved_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    redeemed_order = models.OneToOneField(
        "customers.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "code"], name="promo_code_unique_in_pool"),
            # One code per customer per pool (a shared pool's one code has no customer).
            models.UniqueConstraint(
                fields=["pool", "customer"],
                condition=Q(customer__isnull=False),
                name="promo_code_one_per_customer",
            ),
            # Redeemed exactly when an order redeemed it: one redemption per code.
            models.CheckConstraint(
                condition=Q(status="redeemed", redeemed_at__isnull=False)
                | (~Q(status="redeemed") & Q(redeemed_order__isnull=True)),
                name="promo_code_redeemed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status="available", customer__isnull=True) | ~Q(status="available"),
                name="promo_code_available_unowned",
            ),
        ]
        indexes = [
            # Stock per status (GROUP BY) and the next available code both read this index.
            models.Index(fields=["pool", "status", "id"], name="promo_code_stock"),
            models.Index(fields=["customer", "pool"], name="promo_code_customer"),
            models.Index(
                fields=["message"], condition=Q(status="reserved"), name="promo_code_reserved"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PromoRedemption(models.Model):
    """A redemption of a shared pool's code: one row per order, at most the pool's per-customer
    limit per customer (checked under a lock on the code row)."""

    code = models.ForeignKey(PromoCode, on_delete=models.CASCADE, related_name="redemptions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey("customers.Order", on_delete=models.CASCADE, related_name="+")
    redeemed_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "order"], name="promo_redemption_once"),
        ]
        indexes = [models.Index(fields=["code", "customer"], name="promo_redemption_customer")]

    def __str__(self) -> str:
        return f"{self.code_id} by order {self.order_id}"
