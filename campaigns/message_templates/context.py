"""The Liquid context of each customer, built set-based (one query per source per batch)."""

from __future__ import annotations

from liquid.builtin.expressions.path import Path
from liquid.builtin.expressions.primitive import IntegerLiteral
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.if_tag import IfNode

from campaigns.context import context_values
from campaigns.message_templates.rendering import CLV_FIELDS, CUSTOMER_FIELDS, RFM_FIELDS, env
from campaigns.message_templates.schemas import variant_fields
from channels.tracking.links import unsubscribe_placeholder
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


def _clv_values(ids: list[int]) -> dict[int, dict]:
    """customer.clv_12m and its kin, rounded as a message would show them."""
    from customers.models import CustomerValue

    values = {}
    rows = CustomerValue.objects.filter(customer_id__in=ids).values_list("customer_id", *CLV_FIELDS)
    for customer_id, *row in rows:
        value = dict(zip(CLV_FIELDS, row, strict=True))
        value["p_alive"] = round(value["p_alive"], 4)
        value["expected_purchases_12m"] = round(value["expected_purchases_12m"], 2)
        values[customer_id] = value
    return values


def customer_contexts(
    customers: list, extra: dict | None = None, options: dict | None = None
) -> dict[int, dict]:
    """{customer id: context} for a batch: customer, rfm, providers, links, extras. `options` go
    to the context providers (e.g. {"promo_pool_id": 3}); with `names` (context_options), only
    the providers and RFM scores those names read are loaded."""
    from customers.models import RfmScore

    ids = [c.pk for c in customers]
    names = (options or {}).get("names")
    rfm = {}
    if names is None or "rfm" in names:
        rfm = {
            customer_id: dict(zip(RFM_FIELDS, values, strict=True))
            for customer_id, *values in RfmScore.objects.filter(customer_id__in=ids).values_list(
                "customer_id", *RFM_FIELDS
            )
        }
    clv = _clv_values(ids) if names is None or "customer" in names else {}
    links = names is None or "preferences_url" in names
    provided = context_values(customers, options or {})
    contexts = {}
    unsubscribe = unsubscribe_placeholder()
    for customer in customers:
        context = dict(extra or {})
        context["customer"] = _customer_values(customer) | clv.get(customer.pk, {})
        if customer.pk in rfm:
            context["rfm"] = rfm[customer.pk]
        context.update(provided.get(customer.pk, {}))
        # The preferences page is where a customer manages every channel. The one-click
        # unsubscribe link needs the message's id: a placeholder until the message is stored.
        if links:  # a signed token each: only when the templates show it
            context["preferences_url"] = preferences_url(customer.pk)
        context["unsubscribe_url"] = unsubscribe
        contexts[customer.pk] = context
    return contexts


def _recommendation_loop_limits(nodes) -> list[int]:
    """The limits of `{% for p in recommendations.<kind> limit: n %}` loops (n a number)."""
    limits = []
    for node in nodes:
        blocks = []
        if type(node) is ForNode:
            loop = node.expression
            path = loop.iterable.path if isinstance(loop.iterable, Path) else []
            limit = loop.limit
            if (
                len(path) == 2
                and path[0] == "recommendations"
                and type(limit) is IntegerLiteral
                and limit.value > 0
                and loop.offset is None
            ):
                limits.append(limit.value)
            blocks = [node.block, node.default]
        elif type(node) is IfNode:
            blocks = [node.consequence, *(a.block for a in node.alternatives), node.default]
        for block in blocks:
            if block is not None:
                limits.extend(_recommendation_loop_limits(block.nodes))
    return limits


def context_options(version) -> dict:
    """Provider options that narrow a version's contexts to what its templates read, to merge into
    the options given to `customer_contexts`: the recommendation kinds it reads
    (`recommendations.bought_together` → only those picks are loaded) and, when it reads them only
    in loops with a `limit`, how many of each."""
    kinds: set[str] = set()
    names: set[str] = set()
    usages_count = 0
    limits: list[int] = []
    for channel, variant in (version.variants or {}).items():
        for _name, source in variant_fields(channel, variant):
            template = env.from_string(source)
            limits += _recommendation_loop_limits(template.nodes)
            analysis = template.analyze()
            names |= set(analysis.globals)
            for usages in analysis.globals.values():
                for usage in usages:
                    segments = usage.segments
                    if segments[0] != "recommendations":
                        continue
                    if len(segments) < 2 or not isinstance(segments[1], str):
                        return {}  # the whole of it (a loop over the kinds…): load everything
                    kinds.add(segments[1])
                    usages_count += 1
    # The top-level names it reads: providers (and RFM scores) it does not read are not loaded.
    options: dict = {"recommendations_kinds": sorted(kinds), "names": sorted(names)}
    if kinds and len(limits) == usages_count:  # no `.size`, no use outside such a loop
        options["recommendations_limit"] = max(limits)
    return options
