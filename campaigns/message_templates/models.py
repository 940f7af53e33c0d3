"""Message templates: a named template and its immutable versions, one variant per channel."""

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class TemplateCategory(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class Template(models.Model):
    """What staff edit. Its content lives in versions; saving adds a version, never edits one."""

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=15, choices=TemplateCategory.choices)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The newest version, kept here so a list shows it without a subquery.
    current_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["-updated_at", "-id"], name="template_recent")]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One saved state of a template. Rows are never updated: a sent message points at one.

    `variants` is {channel: {...}} validated by `schemas.Variants` (email subject/html/text, sms
    body, whatsapp template_name/language/params, telegram/viber/push title/body/url).
    `extras` are the variable names callers promise to pass (e.g. `order` for a receipt).
    """

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    variants = models.JSONField()
    extras = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("template versions are immutable; save a new one")
        super().save(*args, **kwargs)


class MessageTemplateUse(models.Model):
    """Which template version a message was rendered from.

    channels.Message belongs to a lower app that knows nothing of campaigns, so the link lives
    here (campaigns → channels) rather than as a column on the message.
    """

    message = models.OneToOneField(
        "kaskad_channels.Message", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="uses")

    def __str__(self) -> str:
        return f"message {self.message_id} from {self.version}"
