"""Planning: customer-journey maps (CJM) and communication strategies (AIDA, ACCA, AIDMA).

Both are documents staff write and read; they point at the things that carry them out
(journeys, broadcasts, templates) by a (kind, object id) pair that the services validate, so a
map can name a journey from a package that the planning package does not import.
"""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class LinkKind(models.TextChoices):
    """What a CJM solution or a strategy's content points at."""

    JOURNEY = "journey", _("Journey")
    BROADCAST = "broadcast", _("Broadcast")
    TEMPLATE = "template", _("Template")


class ContentKind(models.TextChoices):
    TEMPLATE = "template", _("Template")
    BROADCAST = "broadcast", _("Broadcast")
    JOURNEY_STEP = "journey_step", _("Journey step")


class Scheme(models.TextChoices):
    AIDA = "aida", "AIDA"
    ACCA = "acca", "ACCA"
    AIDMA = "aidma", "AIDMA"


# Each scheme's stages, in order (see the seed on communication strategies).
SCHEME_STAGES: dict[str, list[tuple[str, str]]] = {
    Scheme.AIDA: [
        ("attention", _("Attention")),
        ("interest", _("Interest")),
        ("desire", _("Desire")),
        ("action", _("Action")),
    ],
    Scheme.ACCA: [
        ("awareness", _("Awareness")),
        ("comprehension", _("Comprehension")),
        ("conviction", _("Conviction")),
        ("action", _("Action")),
    ],
    Scheme.AIDMA: [
        ("attention", _("Attention")),
        ("interest", _("Interest")),
        ("desire", _("Desire")),
        ("memory", _("Memory")),
        ("action", _("Action")),
    ],
}

# The rows of each channel on a CJM board, in order.
CELL_FIELDS: list[tuple[str, str]] = [
    ("touchpoints", _("Touchpoints")),
    ("goal", _("Customer's goal")),
    ("expectations", _("Expectations")),
    ("barriers", _("Barriers")),
    ("solutions", _("Solutions")),
]


class CustomerJourneyMap(models.Model):
    name = models.CharField(_("name"), max_length=200)
    audience = models.CharField(
        _("product or audience"), max_length=200, blank=True, help_text=_("Whose journey it is.")
    )
    description = models.TextField(_("description"), blank=True)
    # The board's channel rows, in order: customers.models.Channel values or free text for
    # offline ones ("store", "call centre").
    channels = models.JSONField(_("channels"), default=list, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("customer journey map")

    def __str__(self) -> str:
        return self.name


class CjmStage(models.Model):
    cjm = models.ForeignKey(CustomerJourneyMap, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    # Who is at this stage now; its materialised membership gives the count.
    segment = models.ForeignKey(
        "customers.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class CjmCell(models.Model):
    """What happens at one stage on one channel."""

    stage = models.ForeignKey(CjmStage, on_delete=models.CASCADE, related_name="cells")
    channel = models.CharField(_("channel"), max_length=40)
    touchpoints = models.TextField(_("touchpoints"), blank=True)
    goal = models.TextField(_("customer's goal"), blank=True)
    expectations = models.TextField(_("expectations"), blank=True)
    barriers = models.TextField(_("barriers"), blank=True)
    solutions = models.TextField(_("solutions"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stage", "channel"], name="cjm_cell_unique")]

    def __str__(self) -> str:
        return f"{self.stage} / {self.channel}"


class CjmSolutionLink(models.Model):
    """A journey, broadcast or template that carries out a cell's solution."""

    cell = models.ForeignKey(CjmCell, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=10, choices=LinkKind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cell", "kind", "object_id"], name="cjm_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class CommunicationStrategy(models.Model):
    """A plan of communication: a scheme and the seed's four questions — to whom, why, when,
    how (tone of voice and channels) — with content tagged by the scheme's stages."""

    name = models.CharField(_("name"), max_length=200)
    scheme = models.CharField(_("scheme"), max_length=5, choices=Scheme.choices)
    segments = models.ManyToManyField(
        "customers.Segment", verbose_name=_("target segments"), blank=True, related_name="+"
    )
    audience = models.TextField(_("to whom"), blank=True)
    goal = models.TextField(_("why"), blank=True)
    timing = models.TextField(_("when"), blank=True)
    tone = models.TextField(_("how: tone of voice"), blank=True)
    channels = models.JSONField(_("how: channels"), default=list, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("communication strategy")
        verbose_name_plural = _("communication strategies")

    def __str__(self) -> str:
        return self.name

    def stages(self) -> list[tuple[str, str]]:
        return SCHEME_STAGES[self.scheme]


class StrategyContent(models.Model):
    """A template, a broadcast or one step of a journey, tagged with a stage of the scheme."""

    strategy = models.ForeignKey(
        CommunicationStrategy, on_delete=models.CASCADE, related_name="content"
    )
    stage = models.CharField(_("stage"), max_length=20)
    kind = models.CharField(_("kind"), max_length=12, choices=ContentKind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    step_id = models.CharField(_("journey step"), max_length=64, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "stage", "kind", "object_id", "step_id"],
                name="strategy_content_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.kind}:{self.object_id}{':' + self.step_id if self.step_id else ''}"
