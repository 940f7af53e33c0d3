"""Outbound messages and their lifecycle, inbound messages and conversations, call log, sandbox
outbox, delivery settings and outbound (CRM) webhooks.
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now

from customers.models import Channel, Customer


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # The gateway may or may not have it (a timeout or a dropped connection after the request
    # went out): not resent blindly; a delivery report, a status lookup or staff settle it.
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    SUPPRESSED = "suppressed", "Suppressed"


# Forward progress of a message. A status can only be replaced by one of higher rank, so callbacks
# arriving out of order (a click before the delivery receipt) never move a message backwards.
# Failed and bounced end a message that has not reached the customer; suppressed ends it before
# any attempt.
STATUS_RANK: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.UNCONFIRMED: 1,
    MessageStatus.SENT: 2,
    MessageStatus.FAILED: 3,
    MessageStatus.BOUNCED: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.OPENED: 5,
    MessageStatus.CLICKED: 6,
    MessageStatus.SUPPRESSED: 7,
}
FINAL_STATUSES = frozenset(
    {MessageStatus.FAILED, MessageStatus.BOUNCED, MessageStatus.SUPPRESSED, MessageStatus.CLICKED}
)


class MessageCategory(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class MessageSource(models.TextChoices):
    API = "api", "API"
    CAMPAIGN = "campaign", "Campaign"
    JOURNEY = "journey", "Journey step"
    AGENT = "agent", "Agent"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    SYSTEM = "system", "System"  # consent confirmations and similar


class Message(models.Model):
    """One outbound send to one address on one channel, from queued to its final status."""

    # Indexed by message_timeline (customer first), so the FK needs no index of its own.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    provider = models.CharField(max_length=30, blank=True, help_text="The gateway that sent it.")
    address = models.CharField(max_length=512, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    # Channel-specific content: a WhatsApp template and its parameters, push title and link, …
    payload = models.JSONField(default=dict, blank=True)
    category = models.CharField(max_length=15, choices=MessageCategory.choices)
    source = models.CharField(max_length=15, choices=MessageSource.choices)
    source_ref = models.CharField(
        max_length=100, blank=True, help_text="Campaign, journey step or agent that sent it."
    )
    conversation = models.ForeignKey(
        "Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # see message_conversation: most messages belong to none
    )
    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    status_reason = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # SHA-256 of the API request as received, so a retry with the same key is recognised even
    # though the stored body was rewritten (opt-out line, short links).
    request_hash = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Rate-limit answers (429) from gateways: not attempts, but bounded (SEND_MAX_RATE_LIMITED).
    rate_limited = models.PositiveSmallIntegerField(default=0)
    # SMS parts (GSM-7 / UCS-2), which is what the gateway bills.
    parts = models.PositiveSmallIntegerField(null=True, blank=True)
    # Earliest time the next attempt may run: quiet hours, retry backoff or a rate limit.
    send_after = models.DateTimeField(null=True, blank=True)
    # While a worker holds a message, no other worker (or the sweeper) takes it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it failed, bounced or was suppressed."
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        # Every index costs each send two updates' worth of work (claim, then sent), so only
        # these: the timeline (also the frequency cap's per-customer count), callbacks by gateway
        # id, the sweeper's queued rows, a conversation's thread, the failures staff look for and
        # the message log's order (also today's counts on the home page); queued_at never changes,
        # so that last one costs an insert and nothing on updates.
        indexes = [
            models.Index(fields=["queued_at", "id"], name="message_log"),
            models.Index(fields=["customer", "-queued_at"], name="message_timeline"),
            models.Index(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="message_provider_id",
            ),
            models.Index(
                fields=["send_after", "id"],
                condition=models.Q(status="queued"),
                name="message_queued",
            ),
            models.Index(
                fields=["conversation", "queued_at"],
                condition=models.Q(conversation__isnull=False),
                name="message_conversation",
            ),
            models.Index(
                fields=["status", "-queued_at"],
                condition=models.Q(status__in=["failed", "bounced", "suppressed", "unconfirmed"]),
                name="message_problems",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address or '?'} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class MessageStatusChange(models.Model):
    """Every status a message reached, with where the news came from (worker, webhook, pixel),
    and every send attempt with the gateway's answer (a retried one stays `queued`)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=12, choices=MessageStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=50, blank=True)
    occurred_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["message", "occurred_at"], name="status_change_message")]

    def __str__(self) -> str:
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class TrackedLink(models.Model):
    """A short click link (`/l/<code>`) for text channels, where a signed token would cost an SMS
    part of its own. Email keeps signed links, which need no row."""

    code = models.CharField(max_length=16, unique=True)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="tracked_links")
    url = models.TextField()
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"/l/{self.code} → {self.url[:60]}"


class SandboxMessage(models.Model):
    """What a sandbox provider would have sent. Used by the embedded default, never production."""

    message = models.ForeignKey(
        Message, null=True, on_delete=models.SET_NULL, related_name="sandbox_copies"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=512)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "sandbox outbox message"

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}"


class DeliverySettings(models.Model):
    """Sending rules staff can change: frequency caps for marketing and quiet hours. One row."""

    marketing_per_day = models.PositiveSmallIntegerField(
        default=3, help_text="Marketing messages per customer per day, all channels; 0 = no cap."
    )
    marketing_per_week = models.PositiveSmallIntegerField(
        default=10, help_text="Marketing messages per customer per 7 days; 0 = no cap."
    )
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="In the customer's time zone, e.g. 21:00. Empty = none."
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="e.g. 09:00")
    default_timezone = models.CharField(
        max_length=64, default="Europe/Moscow", help_text="For customers without a time zone."
    )
    # What one SMS part costs with the gateway's tariff: previews and broadcast reviews show the
    # cost as parts × price. 0 = not set (the cost is not shown).
    sms_part_price = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    sms_price_currency = models.CharField(max_length=3, default="RUB")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = verbose_name_plural = "delivery settings"

    def __str__(self) -> str:
        return "Delivery settings"


class Conversation(models.Model):
    """A two-way thread with a customer on one channel, opened by an inbound message."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        RESOLVED = "resolved", "Resolved"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    opened_at = models.DateTimeField(default=now)
    last_message_at = models.DateTimeField(default=now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Snoozed: out of the open lists until then (or until the customer writes again).
    snoozed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "channel", "status"], name="conversation_lookup"),
            models.Index(fields=["status", "-last_message_at"], name="conversation_inbox"),
            models.Index(
                fields=["snoozed_until"],
                condition=models.Q(snoozed_until__isnull=False),
                name="conversation_snoozed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} conversation with {self.customer} ({self.status})"


class InboundMessage(models.Model):
    """A message a customer sent us, on any channel."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="inbound_messages"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    provider = models.CharField(max_length=30)
    address = models.CharField(max_length=512)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    provider_message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            # A gateway that repeats a callback must not create a second message.
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"], name="inbound_unique_provider_id"
            )
        ]
        indexes = [models.Index(fields=["customer", "-received_at"], name="inbound_timeline")]

    def __str__(self) -> str:
        return f"{self.channel} from {self.address}: {self.body[:40]}"


class ConversationNote(models.Model):
    """A private note staff leave in a conversation; never sent to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="conversation_note")]

    def __str__(self) -> str:
        return f"Note on conversation {self.conversation_id}"


class CannedResponse(models.Model):
    """A saved answer an agent inserts into a reply by typing "/" and its shortcode."""

    shortcode = models.SlugField(max_length=50, unique=True)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["shortcode"]

    def __str__(self) -> str:
        return f"/{self.shortcode}"


class AutoReplyRule(models.Model):
    """An automatic answer: to a keyword or pattern, or to anything outside business hours."""

    class Match(models.TextChoices):
        KEYWORD = "keyword", "Any of these words"
        PATTERN = "pattern", "Regular expression"
        OUT_OF_HOURS = "out_of_hours", "Outside business hours"

    name = models.CharField(max_length=200)
    channel = models.CharField(
        max_length=10, choices=Channel.choices, blank=True, help_text="Empty = every channel."
    )
    match = models.CharField(max_length=15, choices=Match.choices)
    pattern = models.CharField(
        max_length=500,
        blank=True,
        help_text="Keywords separated by commas, or a regular expression (case-insensitive).",
    )
    reply = models.TextField()
    # Business hours for out-of-hours rules, in `timezone`: weekdays 0 = Monday.
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    business_days = models.JSONField(default=list, blank=True, help_text="e.g. [0, 1, 2, 3, 4]")
    timezone = models.CharField(max_length=64, default="Europe/Moscow")
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class CallLog(models.Model):
    """A phone call reported by the telephony provider's webhooks."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="calls"
    )
    provider = models.CharField(max_length=30)
    provider_call_id = models.CharField(max_length=255)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    phone = models.CharField(max_length=20)  # the customer's side, E.164
    status = models.CharField(max_length=30, help_text="As the provider reports it.")
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=1000, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_call_id"], name="call_unique_provider_id"
            )
        ]
        indexes = [models.Index(fields=["customer", "-started_at"], name="call_timeline")]

    def __str__(self) -> str:
        return f"{self.direction} call {self.phone} ({self.status})"


class PushSubscription(models.Model):
    """Keys of a browser push subscription; the endpoint is the customer's `push` identity."""

    class Kind(models.TextChoices):
        WEB = "web", "Web push (VAPID)"
        FCM = "fcm", "Mobile (FCM)"

    identity = models.OneToOneField(
        "customers.ChannelIdentity", on_delete=models.CASCADE, related_name="push_subscription"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    p256dh = models.CharField(max_length=200, blank=True)
    auth = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.kind} push subscription"


class WebhookSubscription(models.Model):
    """A CRM endpoint that receives Kaskad's events, signed with HMAC-SHA256 of the body."""

    class EventType(models.TextChoices):
        MESSAGE_STATUS = "message.status", "Message status changed"
        CONSENT = "consent.changed", "Consent changed"
        INBOUND = "message.inbound", "Inbound message"
        CONVERSATION = "conversation.updated", "Conversation opened or changed"
        PROMO_LOW_STOCK = "promo.low_stock", "Promo code pool low on stock"
        JOURNEY_ACTION = "journey.action", "A journey's webhook step"
        GOAL_OFF_TRACK = "goal.off_track", "An analytics goal went off track"

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=128, help_text="Signs each delivery (X-Kaskad-Signature).")
    event_types = models.JSONField(default=list, help_text="Event types to send; empty = all.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.event_types or event_type in self.event_types)


class WebhookDelivery(models.Model):
    """One event for one subscription, and how sending it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=30)
    event_id = models.CharField(
        max_length=64, help_text="Unique per event; receivers dedupe on it."
    )
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.subscription} ({self.status})"
