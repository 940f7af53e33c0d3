"""Broadcasts: one template (or one survey) to a segment's snapshot, with a holdout, A/B variants
and results.

A broadcast is launched once. Launching snapshots the segment into `BroadcastRecipient` rows (the
fixed, listed audience), each with a deterministic bucket that puts it in the holdout, the A/B
test group or the rest. Workers then render and store a message per recipient in chunks
(services/sending.py). `BroadcastStats` holds the results per variant and for the holdout,
refreshed from the recipients' messages and orders (services/results.py), so pages and the API
read a handful of rows instead of scanning messages.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    TESTING = "testing", _("A/B test running")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Timing(models.TextChoices):
    NOW = "now", _("Now")
    AT = "at", _("At a time")
    LOCAL = "local", _("At a local time in each customer's time zone")


class AbMetric(models.TextChoices):
    OPENED = "opened", _("Open rate")
    CLICKED = "clicked", _("Click rate")
    CONVERTED = "converted", _("Conversion rate")
    REVENUE = "revenue", _("Revenue per recipient")


class Broadcast(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # A template, or a survey (analytics' NPS, CSAT or CES, by id: campaigns cannot import it).
    template = models.ForeignKey(
        "campaigns.Template",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="broadcasts",
    )
    survey_id = models.BigIntegerField(_("survey"), null=True, blank=True)
    segment = models.ForeignKey(
        "customers.Segment", on_delete=models.PROTECT, related_name="broadcasts"
    )
    # One channel, or "" for each customer's preferred channel, tried in `channel_order`.
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    channel_order = models.JSONField(_("fallback order"), default=list, blank=True)
    promo_pool = models.ForeignKey(
        "campaigns.PromoPool",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="broadcasts",
        verbose_name=_("promo pool"),
    )
    holdout_percent = models.PositiveSmallIntegerField(_("holdout, %"), default=0)
    timing = models.CharField(_("timing"), max_length=5, choices=Timing.choices, default="now")
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    local_time = models.TimeField(_("local time"), null=True, blank=True)
    # A/B: the share of the (non-holdout) audience that gets the test, the metric that picks the
    # winner and how long the test runs before the winner goes to the rest. 0 % = no test.
    test_percent = models.PositiveSmallIntegerField(_("test share, %"), default=0)
    ab_metric = models.CharField(
        _("winner metric"), max_length=10, choices=AbMetric.choices, default=AbMetric.CLICKED
    )
    test_hours = models.PositiveSmallIntegerField(_("test duration, hours"), default=4)
    conversion_days = models.PositiveSmallIntegerField(_("conversion window, days"), default=7)
    seed = models.PositiveIntegerField(default=0)  # the bucket hash's salt: reruns stay stable
    status = models.CharField(
        max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    winner = models.ForeignKey(
        "BroadcastVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"method": "two-proportion z-test", "p_value": .., "probability_to_beat": .., "lift": ..}
    winner_stats = models.JSONField(default=dict, blank=True)
    # Live progress, bumped by each chunk as it commits.
    audience_count = models.PositiveIntegerField(default=0)
    holdout_count = models.PositiveIntegerField(default=0)  # fixed at launch
    test_count = models.PositiveIntegerField(default=0)  # the A/B test group, fixed at launch
    processed_count = models.PositiveIntegerField(default=0)
    queued_count = models.PositiveIntegerField(default=0)
    suppressed_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    launched_at = models.DateTimeField(null=True, blank=True)
    winner_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stats_refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="broadcast_recent"),
            models.Index(fields=["status"], name="broadcast_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_percent__lte=50), name="broadcast_holdout"),
            models.CheckConstraint(condition=Q(test_percent__lte=100), name="broadcast_test"),
            models.CheckConstraint(
                condition=Q(template__isnull=False, survey_id__isnull=True)
                | Q(template__isnull=True, survey_id__isnull=False),
                name="broadcast_template_or_survey",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ab(self) -> bool:
        return self.test_percent > 0

    @property
    def is_editable(self) -> bool:
        """Not launched yet: a draft, or scheduled and waiting for its time."""
        return self.status in (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)


class BroadcastVariant(models.Model):
    """What one part of the audience gets: a template version, and optionally its own subject or
    channel. A broadcast without a test has one variant, "A"."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=2)  # A, B, C…
    template = models.ForeignKey(
        "campaigns.Template", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Fixed at launch: the version every message of this variant is rendered from.
    version = models.ForeignKey(
        "campaigns.TemplateVersion",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    channel = models.CharField(_("channel"), max_length=10, blank=True)

    class Meta:
        ordering = ["broadcast", "key"]
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "key"], name="broadcast_variant_key")
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id}/{self.key}"


class RecipientGroup(models.TextChoices):
    HOLDOUT = "holdout", _("Holdout")
    TEST = "test", _("A/B test")
    MAIN = "main", _("Main")  # everyone, without a test; the rest after the winner, with one


class RecipientState(models.TextChoices):
    PENDING = "pending", _("Pending")
    QUEUED = "queued", _("Queued")
    SUPPRESSED = "suppressed", _("Suppressed")
    HELD = "held", _("Held out")
    CANCELLED = "cancelled", _("Cancelled")


class BroadcastRecipient(models.Model):
    """One customer of the snapshot. No database foreign keys on the customer or message (a
    million rows are written in one go; the broadcast owns them and deletes them with itself)."""

    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, related_name="recipients", db_constraint=False
    )
    customer_id = models.BigIntegerField()
    bucket = models.PositiveSmallIntegerField()  # 0–9,999, from (seed, customer)
    group = models.CharField(max_length=7, choices=RecipientGroup.choices)
    variant = models.ForeignKey(
        BroadcastVariant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    state = models.CharField(
        max_length=10, choices=RecipientState.choices, default=RecipientState.PENDING
    )
    channel = models.CharField(max_length=10, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)  # local-time broadcasts
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "customer_id"], name="broadcast_recipient")
        ]
        indexes = [
            models.Index(fields=["broadcast", "state", "id"], name="broadcast_recipient_state")
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id}: {self.customer_id} ({self.state})"


class BroadcastStats(models.Model):
    """Results of one variant, or of the holdout (variant null, holdout true), as of
    `refreshed_at`. Rewritten by `broadcast_stats_refresh`."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="stats")
    variant = models.ForeignKey(
        BroadcastVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    holdout = models.BooleanField(default=False)
    audience = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    suppressed_by_reason = models.JSONField(default=dict, blank=True)
    queued = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    complaints = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_sq = models.FloatField(default=0)  # Σ revenue² per customer, for the revenue test
    # Opens and clicks per hour since launch: [[iso hour, opened, clicked], …]
    hourly = models.JSONField(default=list, blank=True)
    refreshed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["broadcast", "holdout", "variant"]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "variant"],
                condition=Q(variant__isnull=False),
                name="broadcast_stats_variant",
            ),
            models.UniqueConstraint(
                fields=["broadcast"], condition=Q(holdout=True), name="broadcast_stats_holdout"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} stats"
