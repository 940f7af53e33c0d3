"""Daily rollups every dashboard reads instead of the raw orders and messages tables.

All rows are derived data, rewritten by `analytics.rollups.rollups_refresh` for the days marked
dirty by writes (`RollupDirtyDay`, `RollupDirtyCustomer`) and by `manage.py rollups_rebuild`. Days
are calendar days in the project's TIME_ZONE. Like segment memberships, the customer-keyed rows
carry no database-level foreign key: a refresh rewrites them and never reads a dangling one.
"""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

__all__ = [
    "AnalyticsSettings",
    "CohortActivity",
    "CustomerRollup",
    "DailyChannelRollup",
    "DailyRollup",
    "RollupDirtyCustomer",
    "RollupDirtyDay",
    "RollupState",
]


class AnalyticsSettings(models.Model):
    """One row (pk=1): how analytics defines a customer for retention, CRR and churn."""

    churn_window_days = models.PositiveIntegerField(
        _("inactivity window (days)"),
        default=180,
        help_text=_(
            "A customer who has not ordered for this many days counts as lost in retention, "
            "CRR and churn."
        ),
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = verbose_name_plural = _("analytics settings")

    def __str__(self) -> str:
        return "Analytics settings"


class DailyRollup(models.Model):
    """The whole base's orders and sign-ups on one day. Orders count unless cancelled or refunded."""

    day = models.DateField(primary_key=True)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    buyers = models.PositiveIntegerField(default=0)
    new_buyers = models.PositiveIntegerField(default=0)  # their first order ever was this day
    returning_buyers = models.PositiveIntegerField(default=0)
    new_customers = models.PositiveIntegerField(default=0)  # profiles created this day
    computed_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.day}: {self.orders} orders"


class DailyChannelRollup(models.Model):
    """Messages queued on one day on one channel, by how far they got (as of the last refresh)."""

    day = models.DateField()
    channel = models.CharField(max_length=10)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    sms_parts = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "channel"], name="daily_channel_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel}: {self.sent} sent"


class CustomerRollup(models.Model):
    """What the rollups last counted for one customer: the day the profile was created and the
    acquisition cohort (the day and month of the first counted order; empty before one). Kept so a
    change can dirty the day it leaves as well as the day it moves to."""

    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rollup",
        db_constraint=False,
    )
    created_day = models.DateField()
    first_order_day = models.DateField(null=True, blank=True, db_index=True)  # new buyers per day
    cohort_month = models.DateField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.customer_id}: cohort {self.cohort_month}"


class CohortActivity(models.Model):
    """One cell of the cohort table: what customers acquired in `cohort_month` did in `month`."""

    cohort_month = models.DateField()
    month = models.DateField()
    customers = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort_month", "month"], name="cohort_activity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.cohort_month} in {self.month}: {self.customers}"


class RollupDirtyDay(models.Model):
    """A day whose rollups a write made stale; the refresh recomputes and deletes it."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"dirty {self.day}"


class RollupDirtyCustomer(models.Model):
    """A customer whose orders changed, so whose acquisition cohort may have moved."""

    customer_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"dirty customer {self.customer_id}"


class RollupState(models.Model):
    """One row (pk=1): where the refresh's scan for new and changed customer profiles stopped."""

    customers_seen_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups refreshed at {self.refreshed_at}"
