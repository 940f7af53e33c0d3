"""Surveys: NPS, CSAT and CES definitions, each send of one to a customer, and the answer to it.

A `Survey` is a definition: its kind fixes the scale (NPS 0–10, CSAT 1–5, CES 1–7); its texts are
kept per language (ru, en, ro) and picked by the customer's locale. A `SurveySend` is one survey
sent to one customer on one channel, with where it came from (by hand, a broadcast, a journey step,
a closed conversation, the API) so scores can be cut by source. The answer is one row per send: a
second answer (a changed score, the comment) updates it.
"""

from django.db import models
from django.utils.timezone import now

from customers.models import Channel, Customer


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS"
    CSAT = "csat", "CSAT"
    CES = "ces", "CES"


# (lowest score, highest score) of each kind's scale.
SCALES = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}


class Survey(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=4, choices=SurveyKind.choices)
    # {"ru": "...", "en": "...", "ro": "..."}: the score question, the "why?" follow-up, the thanks.
    question = models.JSONField(default=dict)
    follow_up = models.JSONField(default=dict)
    thanks = models.JSONField(default=dict)
    # What a detractor's answer does at once (besides the `survey_answered` event journeys can use).
    open_conversation_on_detractor = models.BooleanField(default=False)
    # WhatsApp outside the 24-hour window: an approved template {"name", "language"} whose one
    # body parameter is the link to the survey page. Empty: such customers are not sent to.
    whatsapp_template = models.JSONField(default=dict, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[SurveyKind(self.kind)]


class SurveySource(models.TextChoices):
    MANUAL = "manual", "manual"
    BROADCAST = "broadcast", "broadcast"
    JOURNEY = "journey", "journey"
    CONVERSATION = "conversation", "conversation"
    API = "api", "api"


class SurveySend(models.Model):
    class State(models.TextChoices):
        AWAITING_SCORE = "score", "awaiting score"
        AWAITING_COMMENT = "comment", "awaiting comment"
        DONE = "done", "done"
        # The policy refused the invitation (no consent, no address, a cap): it never left.
        UNSENT = "unsent", "not sent"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="sends")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_sends")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    message = models.ForeignKey(
        "kaskad_channels.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=12, choices=SurveySource.choices)
    # The broadcast, journey or conversation it came from (ids, so analytics can group by them).
    broadcast_id = models.BigIntegerField(null=True, blank=True)
    journey_id = models.BigIntegerField(null=True, blank=True)
    journey_step = models.CharField(max_length=64, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    # Chat channels ask the score, then the comment, in the same thread.
    state = models.CharField(max_length=7, choices=State.choices, default=State.AWAITING_SCORE)
    # A chat reply that was not a score gets one re-ask, never more.
    reasked = models.BooleanField(default=False)
    # The inbound messages the survey consumed (score, comment): a support conversation made of
    # nothing else is closed after the thanks; one with any other message stays open.
    reply_inbound_ids = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["survey", "sent_at"], name="analytics_send_survey"),
            # An inbound reply finds the customer's open send on that channel.
            models.Index(
                fields=["customer", "channel", "-sent_at"],
                name="analytics_send_open",
                condition=models.Q(state__in=("score", "comment")),
            ),
            # Response rates: sends per survey and channel over a period, from the index alone.
            models.Index(fields=["survey", "channel", "sent_at"], name="analytics_send_rate"),
            models.Index(fields=["journey_id", "sent_at"], name="analytics_send_journey"),
            models.Index(fields=["broadcast_id", "sent_at"], name="analytics_send_broadcast"),
        ]

    def __str__(self):
        return f"{self.survey_id} → {self.customer_id} ({self.channel})"


class SurveyAnswer(models.Model):
    """The answer to one send. Survey, customer and channel are copied from the send so score
    reports group one table."""

    send = models.OneToOneField(SurveySend, on_delete=models.CASCADE, related_name="answer")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="answers")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_answers")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    # Bumped by each change, so each change's `survey_answered` event has its own event id.
    revision = models.PositiveIntegerField(default=1)
    # The support conversation a detractor's answer opened (or reused); later notes go there.
    conversation_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["survey", "answered_at"], name="analytics_answer_survey"),
            models.Index(fields=["customer", "answered_at"], name="analytics_answer_customer"),
            models.Index(fields=["answered_at"], name="analytics_answer_day"),
            models.Index(fields=["survey", "channel", "answered_at"], name="analytics_answer_rate"),
        ]

    def __str__(self):
        return f"{self.survey_id}: {self.score}"
