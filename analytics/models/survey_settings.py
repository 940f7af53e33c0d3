"""Survey settings staff change: which CSAT survey goes out when a support conversation closes."""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from analytics.models.surveys import Survey


class SurveySettings(models.Model):
    """One row (created with defaults on first use)."""

    conversation_survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey after a closed conversation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Sent on the conversation's channel when an agent closes a support conversation. "
            "Empty: none."
        ),
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")

    def __str__(self):
        return str(_("Survey settings"))
