"""The trigger map: which journeys serve which customer segment (seeds: "trigger map").

Its rows are the four base segments (new, active, at risk, lost), every segment a journey serves,
and the segments staff pinned (`TriggerMapSegment`).
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now

# The base segments of the map, made by the demo (and findable by name): name, RFM rule, note.
BASE_SEGMENTS = (
    (
        "New customers",
        {"rfm": {"segment": ["new_customers", "promising"]}},
        "RFM New Customers and Promising: a first order, recently.",
    ),
    (
        "Active customers",
        {"rfm": {"segment": ["champions", "loyal_customers", "potential_loyalists"]}},
        "RFM Champions, Loyal Customers and Potential Loyalists.",
    ),
    (
        "At risk",
        {"rfm": {"segment": ["at_risk", "cant_lose_them"]}},
        "RFM At Risk and Can't Lose Them: used to buy often, not lately.",
    ),
    (
        "Lost customers",
        {"rfm": {"segment": ["hibernating", "lost"]}},
        "RFM Hibernating and Lost.",
    ),
)
BASE_SEGMENT_NAMES = tuple(name for name, _rules, _note in BASE_SEGMENTS)


class TriggerMapSegment(models.Model):
    """A segment staff pinned to the trigger map."""

    segment = models.OneToOneField("customers.Segment", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        app_label = "campaigns"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"map: {self.segment_id}"
