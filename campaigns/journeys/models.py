"""Journeys: a draft, immutable published versions, one enrollment row per customer run.

The engine (services/engine.py) moves enrollments through their version's steps. An enrollment
that must act now or whose wait ends has `wake_at` set; the tick claims due rows through the
partial index `journey_enrollment_due` with FOR UPDATE SKIP LOCKED. Outcomes that arrive (a
message opened, an event, an order) resume the customer's waiting runs directly.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # never published
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")  # no new entrants, no steps run; waits keep their times
    ARCHIVED = "archived", _("Archived")  # ended: every open run exited


class Journey(models.Model):
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=8, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT
    )
    # The definition being edited (campaigns.journeys.definition.Definition as JSON).
    draft = models.JSONField(default=dict)
    draft_changed = models.BooleanField(default=True)  # the draft differs from the live version
    live_version = models.ForeignKey(
        "JourneyVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The segment the journey serves on the trigger map (its trigger's segment, or chosen).
    segment = models.ForeignKey(
        "customers.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    template_key = models.CharField(max_length=40, blank=True)  # made from a ready-made template
    next_run_at = models.DateTimeField(null=True, blank=True)  # date and schedule triggers
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        app_label = "campaigns"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_run_at"], name="journey_due_runs")]

    def __str__(self) -> str:
        return self.name


class JourneyVersion(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The definition as published, with each template pinned to the version current then.
    definition = models.JSONField()
    published_at = models.DateTimeField(default=now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    # {old version id: {old step: new step}} applied at publishing, for the record.
    mapping = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "campaigns"
        ordering = ["journey_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "number"], name="journey_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.journey} v{self.number}"


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", _("Running")  # acts at wake_at (now, usually)
    WAITING = "waiting", _("Waiting")  # for a time or an outcome; wake_at is its timeout
    COMPLETED = "completed", _("Completed")
    CONVERTED = "converted", _("Converted")
    EXITED = "exited", _("Exited")


OPEN_STATES = (EnrollmentState.ACTIVE, EnrollmentState.WAITING)


class Enrollment(models.Model):
    """One customer's run through a journey."""

    id = models.BigAutoField(primary_key=True)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrollments")
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="journey_enrollments"
    )
    run = models.PositiveIntegerField(default=1)  # the customer's nth run of this journey
    entry_key = models.CharField(max_length=200, blank=True)
    step = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=9, choices=EnrollmentState.choices)
    wake_at = models.DateTimeField(null=True, blank=True)
    # Per-step visit counts (also the send idempotency attempt), the entry properties, the
    # issued promo code, results of past steps, the cascade's position, awaited message ids.
    context = models.JSONField(default=dict)
    entered_at = models.DateTimeField(default=now)
    step_entered_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=60, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The step that converted or exited the run (its own `step` may be a later one).
    last_step = models.CharField(max_length=40, blank=True)

    class Meta:
        app_label = "campaigns"
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "customer", "run"], name="journey_enrollment_run_unique"
            ),
            # One open run per (journey, customer, key) for every policy but "every_time",
            # which the engine marks with a distinct key suffix.
            models.UniqueConstraint(
                fields=["journey", "customer", "entry_key"],
                condition=Q(state__in=["active", "waiting"]),
                name="journey_enrollment_one_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["wake_at"],
                condition=Q(state__in=["active", "waiting"]),
                name="journey_enrollment_due",
            ),
            models.Index(
                fields=["customer"],
                condition=Q(state__in=["active", "waiting"]),
                name="journey_enrollment_open",
            ),
            models.Index(fields=["version", "step", "state"], name="journey_enrollment_step"),
            models.Index(fields=["journey", "state"], name="journey_enrollment_state"),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.customer_id}#{self.run}"


class EnrollmentLog(models.Model):
    """What happened to a run, step by step: the run's history and the customer's timeline."""

    id = models.BigAutoField(primary_key=True)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="log")
    journey_id = models.BigIntegerField()
    customer_id = models.BigIntegerField()
    step = models.CharField(max_length=40, blank=True)
    # entered, sent, unreachable, waiting, outcome:<name>, timeout, branch:<case>, arm:<arm>,
    # action, converted, exited:<reason>, completed, migrated
    outcome = models.CharField(max_length=80)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        app_label = "campaigns"
        indexes = [models.Index(fields=["customer_id", "at"], name="journey_log_customer")]

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.step} {self.outcome}"


class StepStat(models.Model):
    """Running counts per version and step: entered, passed:<way>, exited:<reason>, converted
    (with revenue). The engine adds a batch's counts with one upsert per key."""

    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="stats")
    step = models.CharField(max_length=40)
    key = models.CharField(max_length=80)
    count = models.BigIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        app_label = "campaigns"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "step", "key"], name="journey_step_stat_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_id} {self.step} {self.key}={self.count}"
