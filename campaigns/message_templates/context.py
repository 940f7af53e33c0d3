"""The Liquid context of each customer, built set-based (one query per source per batch)."""

from __future__ import annotations

from campaigns.context import context_values
from campaigns.message_templates.rendering import CUSTOMER_FIELDS, RFM_FIELDS
from channels.tracking.tokens import preferences_url


def _customer_values(customer) -> dict:
    # An empty field is left out, so a template that uses it without `default` is stopped
    # (TemplateMissingValue) instead of sending "Hello, !".
    values = {}
    for name in CUSTOMER_FIELDS:
        if name == "full_name":
            value = " ".join(p for p in (customer.first_name, customer.last_name) if p)
        else:
            value = getattr(customer, name, None)
        if value not in (None, ""):
            values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    values["attributes"] = {
        k: v for k, v in (customer.attributes or {}).items() if v not in (None, "")
    }
    return values


def customer_contexts(
    customers: list, extra: dict | None = None, options: dict | None = None
) -> dict[int, dict]:
    """{customer id: context} for a batch: customer, rfm, providers, links, extras. `options` go
    to the context providers (e.g. {"promo_pool_id": 3})."""
    from customers.models import RfmScore

    rfm = {
        row["customer_id"]: {k: row[k] for k in RFM_FIELDS}
        for row in RfmScore.objects.filter(customer__in=[c.pk for c in customers]).values(
            "customer_id", *RFM_FIELDS
        )
    }
    provided = context_values(customers, options or {})
    contexts = {}
    for customer in customers:
        context = dict(extra or {})
        context["customer"] = _customer_values(customer)
        if customer.pk in rfm:
            context["rfm"] = rfm[customer.pk]
        context.update(provided.get(customer.pk, {}))
        # The preferences page is where a customer unsubscribes from any channel; the one-click
        # unsubscribe link of a message needs its id and is added by the email provider.
        link = preferences_url(customer.pk)
        context["preferences_url"] = link
        context["unsubscribe_url"] = link
        contexts[customer.pk] = context
    return contexts
