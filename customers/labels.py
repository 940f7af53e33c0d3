"""The names staff read for lifecycle stages and RFM segments, in their language.

The models' choices keep their English labels (the API and the admin show those); every workspace
page takes its translated names from here, so one segment has one name everywhere.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import LifecycleStage, RfmSegment

LIFECYCLE_LABELS = {
    LifecycleStage.LEAD.value: _("Lead"),
    LifecycleStage.PROSPECT.value: _("Prospect"),
    LifecycleStage.CUSTOMER.value: pgettext_lazy("lifecycle stage", "Customer"),
    LifecycleStage.REPEAT_CUSTOMER.value: _("Repeat customer"),
    LifecycleStage.LAPSED.value: _("Lapsed"),
    LifecycleStage.CHURNED.value: _("Churned"),
}
RFM_SEGMENT_LABELS = {
    RfmSegment.CHAMPIONS.value: _("Champions"),
    RfmSegment.LOYAL_CUSTOMERS.value: _("Loyal customers"),
    RfmSegment.POTENTIAL_LOYALISTS.value: _("Potential loyalists"),
    RfmSegment.NEW_CUSTOMERS.value: _("New customers"),
    RfmSegment.PROMISING.value: _("Promising"),
    RfmSegment.NEED_ATTENTION.value: _("Need attention"),
    RfmSegment.ABOUT_TO_SLEEP.value: _("About to sleep"),
    RfmSegment.AT_RISK.value: _("At risk"),
    RfmSegment.CANT_LOSE_THEM.value: _("Can't lose them"),
    RfmSegment.HIBERNATING.value: _("Hibernating"),
    RfmSegment.LOST.value: _("Lost"),
}
