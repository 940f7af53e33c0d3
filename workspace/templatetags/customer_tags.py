"""Labels for the customer page and search: lifecycle stages, RFM segments, timeline kinds."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.labels import LIFECYCLE_LABELS, RFM_SEGMENT_LABELS

register = template.Library()

LIFECYCLE = LIFECYCLE_LABELS
RFM = RFM_SEGMENT_LABELS
KINDS = {
    "message": (_("Messages sent"), "send"),
    "inbound_message": (_("Messages received"), "chat"),
    "call": (_("Calls"), "phone"),
    "event": (_("Events"), "bolt"),
    "order": (_("Orders"), "cart"),
    "consent_change": (_("Consent changes"), "shield"),
    "note": (_("Notes"), "note"),
    "journey": (_("Journeys"), "layers"),
}
ORDER_STATUS = {
    "pending": _("pending"),
    "paid": _("paid"),
    "shipped": _("shipped"),
    "completed": _("completed"),
    "cancelled": _("cancelled"),
    "refunded": _("refunded"),
}
CATEGORY = {"marketing": _("marketing"), "transactional": _("transactional")}
SOURCE = {
    "api": _("API"),
    "campaign": _("campaign"),
    "journey": _("journey"),
    "agent": _("agent"),
    "auto_reply": _("auto-reply"),
    "system": _("system"),
}
JOURNEY_OUTCOMES = {
    "entered": _("entered"),
    "timeout": _("no outcome in time"),
    "converted": _("converted"),
    "completed": _("completed"),
    "migrated": _("moved to a new version"),
    "holdout": _("held out"),
}
MOVING = {"queued", "sent", "unconfirmed"}
POLL_FOR = timedelta(hours=1)


@register.filter
def lifecycle_label(value):
    return LIFECYCLE.get(value, value)


@register.filter
def rfm_label(value):
    return RFM.get(value, value)


@register.filter
def timeline_kind_label(value):
    return KINDS.get(value, (value, ""))[0]


@register.filter
def timeline_icon(value):
    return KINDS.get(value, ("", "info"))[1] or "info"


@register.filter
def journey_outcome_label(value: str) -> str:
    """entered, outcome:opened, exited:opted_out… in the reader's language."""
    if value.startswith("outcome:"):
        return _("outcome: %(name)s") % {"name": value.split(":", 1)[1]}
    if value.startswith("exited:"):
        return _("exited: %(reason)s") % {"reason": value.split(":", 1)[1].replace("_", " ")}
    return JOURNEY_OUTCOMES.get(value, value)


@register.filter
def order_status_label(value):
    return ORDER_STATUS.get(value, value)


@register.filter
def message_category_label(value):
    return CATEGORY.get(value, value)


@register.filter
def message_source_label(value):
    return SOURCE.get(value, value)


@register.filter
def duration_label(seconds):
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def status_polls(message) -> bool:
    """Whether a message's status may still change soon: queued, sent or unconfirmed in the last
    hour. Delivery reports later than that are seen on the next page load."""
    if message is None or message.status not in MOVING:
        return False
    return message.queued_at > timezone.now() - POLL_FOR


LANGUAGES = {"ru": _("Russian"), "en": _("English"), "ro": _("Romanian")}


@register.filter
def language_label(locale):
    """ "ru-RU" → "Russian (ru-RU)"; an unknown language stays as written."""
    if not locale:
        return ""
    name = LANGUAGES.get(str(locale).split("-")[0].lower())
    return f"{name} ({locale})" if name else locale


@register.filter
def pairs(value) -> list:
    """A dict's (key, value) pairs; `{% for k, v in d.items %}` breaks when a key is "items"."""
    return list(value.items()) if isinstance(value, dict) else []


AUDIT_ACTIONS = {
    "consent.changed": _("consent changed"),
    "message.sent": _("message sent"),
    "note.added": _("note added"),
    "customer.exported": _("data exported"),
    "customer.erased": _("customer erased"),
    "conversation.changed": _("conversation changed"),
}
CALL_STATUS = {
    "initiated": _("initiated"),
    "ringing": _("ringing"),
    "answered": _("answered"),
    "in_progress": _("in progress"),
    "completed": pgettext_lazy("call", "completed"),
    "missed": _("missed"),
    "no_answer": _("no answer"),
    "busy": _("busy"),
    "failed": pgettext_lazy("call", "failed"),
    "cancelled": pgettext_lazy("call", "cancelled"),
}


@register.filter
def audit_action_label(value):
    return AUDIT_ACTIONS.get(value, value)


@register.filter
def call_status_label(value):
    return CALL_STATUS.get(value, value)


@register.filter
def audit_change(value) -> str:
    """An audit entry's before/after as "channel: sms, status: opted_out"."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    return str(value)
