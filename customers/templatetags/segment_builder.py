"""Template filters for the rule builder's rows: a row's form value by a name built in the
template (`node|val:"count_op"`), and its multiple values (`node|vals:"status"`)."""

from django import template

register = template.Library()


@register.filter
def val(node, name: str) -> str:
    return node.get(name)


@register.filter
def vals(node, name: str) -> list[str]:
    return node.getlist(name)


@register.filter
def field_name(node, name: str) -> str:
    """The form name of one of the row's values: `<node id>-<name>`."""
    return f"{node.id}-{name}"
