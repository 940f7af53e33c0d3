from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.timezone import now


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    VIBER = "viber", "Viber"
    PUSH = "push", "Push"
    VOICE = "voice", "Voice call"


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"
    UNKNOWN = "unknown", "Unknown"


class LifecycleStage(models.TextChoices):
    LEAD = "lead", "Lead"
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    REPEAT_CUSTOMER = "repeat_customer", "Repeat customer"
    LAPSED = "lapsed", "Lapsed"
    CHURNED = "churned", "Churned"


class AttributeDefinition(models.Model):
    """A custom attribute staff allow on customers, with the type its values must have."""

    class Type(models.TextChoices):
        STRING = "string", "Text"
        NUMBER = "number", "Number"
        BOOL = "bool", "Yes / no"
        DATE = "date", "Date"

    key = models.SlugField(
        max_length=64, unique=True, help_text="Name used in the API, e.g. 'city'."
    )
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=6, choices=Type.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} ({self.type})"


class Customer(models.Model):
    external_id = models.CharField(max_length=255, unique=True, help_text="The CRM's id.")
    email = models.CharField(max_length=254, blank=True, db_index=True)  # lower-case
    phone = models.CharField(max_length=20, blank=True, db_index=True)  # E.164
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    locale = models.CharField(max_length=35, blank=True, help_text="BCP 47, e.g. ru-RU")
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA, e.g. Europe/Moscow")
    birth_date = models.DateField(null=True, blank=True)
    lifecycle_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)
    updated_at = models.DateTimeField(default=now)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            # "changed since" sync reads and the API list order.
            models.Index(fields=["updated_at", "id"], name="customer_updated_at_id"),
            # Few rows are erased; the admin's "erased" filter finds them without a scan.
            models.Index(
                fields=["erased_at"],
                condition=models.Q(erased_at__isnull=False),
                name="customer_erased",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or self.external_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class ChannelIdentity(models.Model):
    """One address on one channel. A customer has many; an address belongs to one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=512)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name_plural = "channel identities"
        constraints = [
            # Address first: batch upserts look addresses up without knowing their channel.
            models.UniqueConstraint(fields=["address", "channel"], name="identity_unique_address")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


class Consent(models.Model):
    """The current consent of a customer on one channel; every change is kept in ConsentChange."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_unique_channel")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.status}"


class ConsentChange(models.Model):
    """Append-only log of consent changes; kept after a GDPR erase as proof of consent."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    previous_status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="consentchange_timeline")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.previous_status} → {self.status}"


class Event(models.Model):
    event_id = models.CharField(max_length=255, unique=True, help_text="The sender's id; dedupes.")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=100)
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=now)
    source = models.CharField(max_length=50, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="event_timeline"),
            models.Index(fields=["name", "occurred_at"], name="event_name_time"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.event_id})"


class Product(models.Model):
    """Catalogue entry, upserted from order items by SKU."""

    sku = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=255, blank=True, db_index=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    url = models.URLField(max_length=1000, blank=True, db_default="")
    image_url = models.URLField(max_length=1000, blank=True, db_default="")
    created_at = models.DateTimeField(
        db_default=Now(), help_text="First seen: recommendations call recent products new."
    )
    updated_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.sku} {self.name}".strip()


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    external_id = models.CharField(max_length=255, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    placed_at = models.DateTimeField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    promo_code = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_timeline"),
            models.Index(fields=["placed_at"], name="order_placed_at"),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["sku"], name="orderitem_sku")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class Note(models.Model):
    """An agent's note on a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["customer", "-created_at"], name="note_timeline")]

    def __str__(self) -> str:
        return self.body[:60]


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", "Champions"
    LOYAL_CUSTOMERS = "loyal_customers", "Loyal Customers"
    POTENTIAL_LOYALISTS = "potential_loyalists", "Potential Loyalists"
    NEW_CUSTOMERS = "new_customers", "New Customers"
    PROMISING = "promising", "Promising"
    NEED_ATTENTION = "need_attention", "Need Attention"
    ABOUT_TO_SLEEP = "about_to_sleep", "About To Sleep"
    AT_RISK = "at_risk", "At Risk"
    CANT_LOSE_THEM = "cant_lose_them", "Can't Lose Them"
    HIBERNATING = "hibernating", "Hibernating"
    LOST = "lost", "Lost"


class RfmScore(models.Model):
    """A customer's latest RFM scores; customers without a counted order have none."""

    # Derived data, rewritten for every customer by each run, which also removes rows of customers
    # no longer scored: no database-level foreign key, whose check cost a first run about 5 s per
    # million rows. Deleting a customer through Django still deletes the row (on_delete).
    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rfm",
        db_constraint=False,
    )
    recency_days = models.PositiveIntegerField()
    frequency = models.PositiveIntegerField()
    monetary = models.DecimalField(max_digits=16, decimal_places=2)
    r = models.PositiveSmallIntegerField()
    f = models.PositiveSmallIntegerField()
    m = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=20, choices=RfmSegment.choices)
    as_of = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["segment"], name="rfm_segment"),
            # (r, f, customer): the RFM page lists a cell's customers by customer id.
            models.Index(fields=["r", "f", "customer"], name="rfm_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.score} {self.get_segment_display()}"

    @property
    def score(self) -> str:
        return f"{self.r}{self.f}{self.m}"


class CustomerValue(models.Model):
    """A customer's lifetime value: historic (their completed orders) and predicted (BG/NBD and
    Gamma-Gamma, fitted by analytics.clv). Customers without a completed order have none.

    It lives here, next to RfmScore, so that segments and templates (in this app) can use it
    without importing analytics; analytics.clv writes every row in one set-based statement.
    """

    # Derived data rewritten for everyone by each run, like RfmScore: no database-level FK.
    customer = models.OneToOneField(
        Customer,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="value",
        db_constraint=False,
    )
    historic_revenue = models.DecimalField(max_digits=16, decimal_places=2)
    orders = models.PositiveIntegerField()
    # The model's summary (calibration end = scored_at's day): repeat purchase days x, days from
    # the first purchase day to the last (t_x) and to the calibration end (T).
    repeat_days = models.PositiveIntegerField()
    recency_days = models.PositiveIntegerField()
    age_days = models.PositiveIntegerField()
    mean_repeat_spend = models.DecimalField(max_digits=14, decimal_places=2)
    p_alive = models.FloatField()
    expected_purchases_12m = models.FloatField()
    expected_spend = models.DecimalField(max_digits=14, decimal_places=2)
    clv_12m = models.DecimalField(max_digits=16, decimal_places=2)
    scored_at = models.DateTimeField()

    # No index beyond the key: each nightly run rewrites every row, and with no indexed column
    # changing (and pages half empty: fillfactor 50 on PostgreSQL, migration 0011) PostgreSQL
    # updates rows in place (HOT), which halves a run's write at a million customers.

    def __str__(self) -> str:
        return f"CLV {self.clv_12m} (P(alive) {self.p_alive:.2f})"


class RfmDimensionSetting(models.Model):
    """How one RFM dimension is scored: quintiles over all customers (default) or fixed thresholds."""

    class Dimension(models.TextChoices):
        RECENCY = "r", "Recency (days since the last order)"
        FREQUENCY = "f", "Frequency (number of orders)"
        MONETARY = "m", "Monetary (sum of order totals)"

    class Method(models.TextChoices):
        QUINTILES = "quintiles", "Quintiles over all scored customers"
        THRESHOLDS = "thresholds", "Fixed thresholds"

    dimension = models.CharField(max_length=1, choices=Dimension.choices, unique=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.QUINTILES)
    thresholds = models.JSONField(
        default=list,
        blank=True,
        help_text="Four ascending numbers [t1, t2, t3, t4]. Frequency and monetary: below t1 "
        "scores 1, from t1 scores 2, from t2 scores 3, from t3 scores 4, from t4 scores 5. "
        "Recency in days: up to t1 scores 5, up to t2 scores 4, up to t3 scores 3, up to t4 "
        "scores 2, more scores 1.",
    )

    def __str__(self) -> str:
        return f"{self.get_dimension_display()}: {self.method}"


class Segment(models.Model):
    """A named group of customers: dynamic (a rule) or static (a list), membership materialised."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (rule)"
        STATIC = "static", "Static (list)"

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=7, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(null=True, blank=True, help_text="The rule, for dynamic segments.")
    member_count = models.PositiveIntegerField(default=0, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why the last refresh failed ("" when it worked); one failing segment never stops the others.
    refresh_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """Materialised membership, rewritten by refreshes. Like RFM scores it is derived data: no
    database-level foreign keys (two checks per row made a million-member fill 4 s slower; a
    refresh removes rows whose customer no longer matches) and no per-column FK indexes, which
    membership_unique (segment, customer) and membership_customer already cover. Deleting a
    segment or customer through Django still deletes its rows (on_delete)."""

    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="segment_memberships",
        db_constraint=False,
        db_index=False,
    )
    joined_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="membership_unique")
        ]
        indexes = [models.Index(fields=["customer"], name="membership_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"
