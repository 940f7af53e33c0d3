"""Saved retrospective forecasts and SMART goals.

A `Forecast` keeps what was asked and what came out (the periods used and the three outcomes), so
a plan can cite it later even after new data would change the numbers. A `Goal` is specific (one
metric, optionally one segment and one channel), measurable (the metric over a trailing window,
recomputed live), with a baseline taken at creation, a target and a deadline, and relevant work
attached (the strategies and journeys that serve it).
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class Forecast(models.Model):
    name = models.CharField(max_length=200, blank=True)
    metric = models.CharField(max_length=20)
    launch = models.DateField()
    horizon_days = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, blank=True)
    segment = models.ForeignKey(
        "customers.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activity_days = models.PositiveSmallIntegerField(default=180)
    result = models.JSONField(default=dict)  # Forecast.as_dict(): periods and outcomes
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name or f"{self.metric} {self.launch}"


class GoalStatus(models.TextChoices):
    ON_TRACK = "on_track", "on track"
    OFF_TRACK = "off_track", "off track"
    ACHIEVED = "achieved", "achieved"
    MISSED = "missed", "missed"
    NO_DATA = "no_data", "no data"


class Goal(models.Model):
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=20)
    segment = models.ForeignKey(
        "customers.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=10, blank=True)
    window_days = models.PositiveSmallIntegerField(default=90)
    baseline = models.FloatField(null=True, blank=True)
    target = models.FloatField()
    starts_on = models.DateField()
    deadline = models.DateField()
    strategies = models.ManyToManyField(
        "campaigns.CommunicationStrategy", blank=True, related_name="+"
    )
    journeys = models.ManyToManyField("campaigns.Journey", blank=True, related_name="+")
    # The latest check (goals_check, every hour and on each page view older than that).
    value = models.FloatField(null=True, blank=True)
    projected = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=9, choices=GoalStatus.choices, default=GoalStatus.NO_DATA)
    checked_at = models.DateTimeField(null=True, blank=True)
    off_track_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]

    def __str__(self):
        return self.name
