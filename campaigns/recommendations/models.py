"""Recommendations: per customer and kind, the top products, recomputed in bulk by SQL.

The tables are derived data: they are deleted and rewritten by `recommendations_refresh`, so their
foreign keys carry no database constraint (as customers' RFM scores and segment memberships).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecommendationKind(models.TextChoices):
    BOUGHT_TOGETHER = "bought_together", _("Bought together")
    POPULAR = "popular", _("Popular in your categories")
    VIEWED = "viewed", _("Viewed, not bought")
    NEW = "new", _("New in a favourite category")


class Recommendation(models.Model):
    """One pick: the customer's rank-th product of a kind (rank 1 is the best)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="recommendations",
    )
    kind = models.CharField(max_length=20, choices=RecommendationKind.choices)
    rank = models.PositiveSmallIntegerField()
    product = models.ForeignKey(
        "customers.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    score = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "rank"], name="recommendation_customer_kind_rank"
            )
        ]
        indexes = [models.Index(fields=["product"], name="recommendation_product")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} #{self.rank}: {self.product_id}"


class CoPurchasePair(models.Model):
    """Products bought in the same order: for each product its most frequent companions.

    Computed once per full refresh from the orders of the last window, never per customer.
    """

    product = models.ForeignKey(
        "customers.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    other = models.ForeignKey(
        "customers.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    orders = models.PositiveIntegerField(help_text="Orders holding both products.")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "rank"], name="copurchase_product_rank")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} + {self.other_id}: {self.orders}"


class CategoryPick(models.Model):
    """Per category and currency, its most bought products ("popular") and its newest ("new")."""

    category = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, blank=True, help_text="The products' market.")
    kind = models.CharField(max_length=20, choices=RecommendationKind.choices)
    product = models.ForeignKey(
        "customers.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "currency", "kind", "rank"],
                name="category_pick_category_kind_rank",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.kind} #{self.rank}: {self.product_id}"


class RecommendationRun(models.Model):
    """One refresh: when, for whom, how long, and how many picks of each kind it wrote."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
        help_text="Empty for a refresh of everyone.",
    )
    pairs = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="{kind: picks written}")

    class Meta:
        indexes = [models.Index(fields=["-started_at"], name="recommendation_run_recent")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.customer_id or 'everyone'}"

    @property
    def seconds_taken(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def total(self) -> int:
        return sum((self.counts or {}).values())
