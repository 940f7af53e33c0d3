"""Names of a message's channel, category and source in the viewer's language."""

from django import template

from channels.message_log import CATEGORY_LABELS, CHANNEL_LABELS, SOURCE_LABELS

register = template.Library()


@register.filter
def channel_name(value) -> str:
    return str(CHANNEL_LABELS.get(str(value), value))


@register.filter
def category_name(value) -> str:
    return str(CATEGORY_LABELS.get(str(value), value))


@register.filter
def source_name(value) -> str:
    return str(SOURCE_LABELS.get(str(value), value))
