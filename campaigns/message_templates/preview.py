"""The editor's live preview: check the unsaved variants, find the customer, render one channel."""

from __future__ import annotations

from campaigns.message_templates.context import customer_contexts
from campaigns.message_templates.models import TemplateVersion
from campaigns.message_templates.rendering import (
    TemplateInvalid,
    TemplateMissingValue,
    TemplateRenderFailed,
    render_compiled,
)
from campaigns.message_templates.services import variants_check
from channels.services.policy import sms_cost
from channels.sms_encoding import sms_size
from channels.sms_optout import sms_with_optout
from customers.models import Customer
from customers.selectors import customer_search


def preview_build(
    *,
    variants: dict,
    extras: list[str],
    category: str,
    channel: str,
    customer_q: str,
    customer_id: str,
) -> dict:
    ctx: dict = {"channel": channel, "customer_q": customer_q, "matches": [], "customer": None}
    try:
        checked = variants_check(variants, extras)
    except TemplateInvalid as exc:
        ctx["problems"] = exc.problems
        return ctx
    ctx["present"] = list(checked)
    customer = None
    if customer_q.strip():
        ctx["matches"] = [m.customer for m in customer_search(customer_q, limit=6).matches]
    try:
        customer = Customer.objects.filter(pk=int(customer_id)).first() if customer_id else None
    except ValueError:
        customer = None
    if customer is None and ctx["matches"]:
        customer = ctx["matches"][0]
    ctx["customer"] = customer
    if channel not in checked:
        ctx["no_variant"] = True
        return ctx
    if customer is None:
        return ctx
    # An unsaved version: rendered without caching (pk None), never stored.
    version = TemplateVersion(variants=checked, extras=extras)
    context = customer_contexts([customer])[customer.pk]
    try:
        rendered = render_compiled(version, channel, context)
    except TemplateRenderFailed as exc:
        ctx["failed"] = exc.variable
        return ctx
    except TemplateMissingValue as exc:
        ctx["missing"] = exc.variable
        return ctx
    ctx["rendered"] = rendered
    if channel == "email":
        ctx["email_html"] = rendered.html
    if channel == "sms":
        body = rendered.body
        if category == "marketing":
            body = sms_with_optout(body, customer.locale)
        ctx["sms_body"] = body
        ctx["sms_size"] = sms_size(body)
        ctx["sms_cost"] = sms_cost(ctx["sms_size"].parts)
    return ctx
