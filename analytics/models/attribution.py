"""Attribution of orders to the messages that touched the customer before them.

A message is a *touch* for an order when the customer engaged with it (per channel: delivered,
opened or clicked, see `TouchRule`) within the channel's window before the order was placed.
`OrderAttribution` holds, per order and attribution model, the touches and their shares of the
order, with the message's source copied in (broadcast, journey and step, channel, template) so the
reports group one table without joining the messages. The rows are derived data, rewritten per
order by `analytics.attribution.services.attribution_refresh` from the `AttributionPending` queue.
"""

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from customers.models import Channel


class AttributionModel(models.TextChoices):
    LAST_TOUCH = "last_touch", _("Last touch")
    FIRST_TOUCH = "first_touch", _("First touch")
    LINEAR = "linear", _("Linear")


class TouchRule(models.TextChoices):
    """The weakest engagement that makes a message a touch; stronger ones count too, and the
    touch happens at the earliest of them."""

    DELIVERED = "delivered", _("Delivered, opened or clicked")
    OPENED = "opened", _("Opened or clicked")
    CLICKED = "clicked", _("Clicked only")


# Used for a channel without its own AttributionChannelSetting row: (rule, window in hours).
# Email has opens (the pixel), so an open is the touch. SMS and Telegram report delivery but no
# read, so delivery counts (a delivered SMS is nearly always read). WhatsApp and Viber report
# reads (stored as opened). A push is only known to be seen when it is tapped (clicked). A voice
# call "delivered" is an answered call.
DEFAULT_CHANNEL_SETTINGS: dict[str, tuple[str, int]] = {
    Channel.EMAIL: (TouchRule.OPENED, 72),
    Channel.SMS: (TouchRule.DELIVERED, 24),
    Channel.WHATSAPP: (TouchRule.OPENED, 24),
    Channel.TELEGRAM: (TouchRule.DELIVERED, 24),
    Channel.VIBER: (TouchRule.OPENED, 24),
    Channel.PUSH: (TouchRule.CLICKED, 24),
    Channel.VOICE: (TouchRule.DELIVERED, 24),
}


class AttributionChannelSetting(models.Model):
    """One channel's touch rule and window; a channel without a row uses the default above."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, unique=True)
    touch = models.CharField(_("counts as a touch"), max_length=9, choices=TouchRule.choices)
    window_hours = models.PositiveIntegerField(_("window, hours"))
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["channel"]

    def __str__(self) -> str:
        return f"{self.channel}: {self.touch} within {self.window_hours} h"


class OrderAttribution(models.Model):
    """One touch of one order under one model, with its share of the order."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(
        "customers.Order", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    message = models.ForeignKey(
        "kaskad_channels.Message", on_delete=models.CASCADE, related_name="+"
    )
    # Copied from the order: the segment filter and the period filter read no other table. Rows
    # go with their order (a customer with orders cannot be deleted), so no constraint, no index
    # and no cascade query by customer on a big table.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    placed_at = models.DateTimeField()
    model = models.CharField(max_length=11, choices=AttributionModel.choices)
    weight = models.FloatField()  # 1 for last and first touch, 1/n for linear
    revenue = models.DecimalField(max_digits=16, decimal_places=2)  # the order's total × weight
    touched_at = models.DateTimeField()
    # The message's source, copied: channels.Message keeps it as text (source_ref) and the
    # template in campaigns.MessageTemplateUse; plain ids, so deleting a campaign keeps history.
    channel = models.CharField(max_length=10)
    source = models.CharField(max_length=15)
    broadcast_id = models.BigIntegerField(null=True, blank=True)
    journey_id = models.BigIntegerField(null=True, blank=True)
    step = models.CharField(max_length=40, blank=True)
    template_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "model", "message"], name="order_attribution_unique"
            )
        ]
        indexes = [models.Index(fields=["model", "placed_at"], name="order_attribution_period")]

    def __str__(self) -> str:
        return f"order {self.order_id} ← message {self.message_id} ({self.model} {self.weight:g})"


class AttributionPending(models.Model):
    """Orders whose attribution must be recomputed: written by the order and message hooks,
    emptied by the periodic `attribution_refresh`."""

    order = models.OneToOneField(
        "customers.Order", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"order {self.order_id}"
