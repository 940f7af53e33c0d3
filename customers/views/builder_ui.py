"""What the rule builder's widgets offer: translated choices, and which widget each row needs."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.labels import LIFECYCLE_LABELS, RFM_SEGMENT_LABELS
from customers.models import AttributeDefinition, Segment
from customers.segments import builder
from customers.segments.builder import GROUP, JSON_ROW, Node
from customers.segments.rules import spec

GROUP_OPS = [
    ("all", _("All of")),
    ("any", _("Any of")),
    ("not", _("Not")),
]
ROW_TYPES = [
    ("field", _("Profile field or attribute")),
    ("event", _("Event")),
    ("orders", _("Orders")),
    ("bought", _("Bought a product")),
    ("rfm", _("RFM")),
    ("clv", _("Customer value (CLV)")),
    ("consent", _("Consent")),
    ("reachable", _("Reachable on a channel")),
    ("identity", _("Has an address on a channel")),
    ("segment", _("Member of a segment")),
    (JSON_ROW, _("JSON")),
]
FIELD_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "email": _("Email"),
    "phone": _("Phone"),
    "locale": _("Language"),
    "timezone": _("Time zone"),
    "lifecycle_stage": _("Lifecycle stage"),
    "birth_date": _("Birth date"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
}
OP_LABELS = {
    "equals": _("is"),
    "not_equals": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "gt": _("greater than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
    "between": _("between"),
    "is_set": _("is set"),
    "is_not_set": _("is not set"),
    "in_last_days": _("in the last N days"),
    "more_than_days_ago": _("more than N days ago"),
    "in_next_days": _("in the next N days"),
    "age_between": _("age between"),
}
COMPARISON_LABELS = [
    ("", pgettext_lazy("comparison", "any")),
    ("equals", "="),
    ("not_equals", "≠"),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
    ("between", _("between")),
]
CHANNEL_LABELS = [
    ("email", pgettext_lazy("channel", "Email")),
    ("sms", _("SMS")),
    ("whatsapp", "WhatsApp"),
    ("telegram", "Telegram"),
    ("viber", "Viber"),
    ("push", _("Push")),
    ("voice", _("Voice call")),
]
CONSENT_LABELS = [
    ("opted_in", _("Opted in")),
    ("opted_out", _("Opted out")),
    ("unknown", pgettext_lazy("consent", "Unknown")),
]
RFM_MEASURES = [
    ("r", _("R score")),
    ("f", _("F score")),
    ("m", _("M score")),
    ("recency_days", _("Days since last order")),
    ("frequency", _("Orders")),
    ("monetary", _("Money spent")),
]
CLV_MEASURES = [
    ("clv_12m", _("Predicted CLV, 12 months")),
    ("historic_revenue", _("Revenue to date")),
    ("p_alive", _("Probability still active (0–1)")),
    ("expected_purchases_12m", _("Expected purchases, 12 months")),
    ("expected_spend", _("Expected spend per purchase")),
    ("orders", _("Completed orders")),
]
ORDER_MEASURES = [
    ("count", _("Number of orders")),
    ("sum", _("Total spent")),
    ("average", _("Average order")),
]
WINDOWS = [
    ("", _("all time")),
    ("days", _("in the last N days")),
    ("between", _("between dates")),
]
PERFORMED = [("did", _("did")), ("did_not", _("did not"))]
PROPERTY_OPS = [(op, OP_LABELS[op]) for op in spec.PROPERTY_OPS]
VALUE_TYPES = [("text", _("text")), ("number", _("number")), ("bool", _("yes/no"))]
BOOL_LABELS = [("true", _("yes")), ("false", _("no"))]


def attribute_types() -> dict[str, str]:
    return dict(AttributeDefinition.objects.values_list("key", "type"))


def builder_choices(*, segment_id: int | None) -> dict:
    """Everything the rows' selects offer (one query for attributes, one for segments)."""
    attributes = list(AttributeDefinition.objects.values_list("key", "label"))
    fields = [(name, label) for name, label in FIELD_LABELS.items()] + [
        (f"{spec.ATTRIBUTE_PREFIX}{key}", label or key) for key, label in attributes
    ]
    segments = Segment.objects.order_by("name").values_list("pk", "name")
    if segment_id is not None:
        segments = segments.exclude(pk=segment_id)
    return {
        "group_ops": GROUP_OPS,
        "row_types": ROW_TYPES,
        "fields": fields,
        "comparisons": COMPARISON_LABELS,
        "channels": CHANNEL_LABELS,
        "consent_statuses": CONSENT_LABELS,
        "lifecycle": list(LIFECYCLE_LABELS.items()),
        "rfm_segments": list(RFM_SEGMENT_LABELS.items()),
        "rfm_measures": RFM_MEASURES,
        "order_measures": ORDER_MEASURES,
        "clv_measures": CLV_MEASURES,
        "windows": WINDOWS,
        "performed": PERFORMED,
        "property_ops": PROPERTY_OPS,
        "value_types": VALUE_TYPES,
        "bools": BOOL_LABELS,
        "segments": (listed := [(str(pk), name) for pk, name in segments[:500]]),
        "segment_ids": {pk for pk, _name in listed},
    }


def decorate(node: Node, types: dict[str, str], *, depth: int = 0) -> Node:
    """Add what the template needs to each row: its depth, and for a field row the operators of
    the field's type and which value widget the operator takes."""
    node.depth = depth
    if node.type == GROUP:
        for child in node.children:
            decorate(child, types, depth=depth + 1)
    elif node.type == "field":
        kind = builder._kind_of(node.get("field"), types) or spec.STRING
        op = node.get("op")
        ops = spec.OPS_BY_KIND[kind]
        if op not in ops:
            op = ops[0]
            node.values["op"] = op
        node.ops = [(o, OP_LABELS[o]) for o in ops]
        node.kind = kind
        name = node.get("field")
        node.field_known = name in spec.PROFILE_FIELDS or (
            name.removeprefix(spec.ATTRIBUTE_PREFIX) in types
            and name.startswith(spec.ATTRIBUTE_PREFIX)
        )
        if op in spec.NO_VALUE_OPS:
            node.widget = "none"
        elif op in builder.LIST_OPS:
            node.widget = "list"
        elif op in builder.PAIR_OPS:
            node.widget = "pair"
        elif op in builder.DAYS_OPS:
            node.widget = "days"
        else:
            node.widget = "scalar"
        if op == "age_between":
            node.input = "number"
        elif kind in (spec.NUMBER, spec.DATE):
            node.input = "number" if kind == spec.NUMBER else "date"
        elif kind == spec.DATETIME:
            node.input = "datetime"
        elif kind == spec.BOOL:
            node.input = "bool"
        elif kind == spec.CHOICE:
            node.input = "choice"
        else:
            node.input = "text"
    elif node.type == "event":
        node.where_rows = node.where
    return node
