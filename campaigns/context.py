"""What a message template can use besides the customer's own fields: one provider per concept.

Each part of campaigns registers a provider from CampaignsConfig.ready(), e.g. loyalty registers
"points" (the balance and soonest expiry), promo "promo_code", recommendations "recommendations".
The template renderer asks every provider for its values once per customer (or once per batch, for
a broadcast) and puts each under its name in the Liquid context.

A provider is `fn(customers: list[Customer], options: dict) -> dict[customer_id, value]`: set-based,
so a broadcast to a million customers asks once per batch, never once per customer.
"""

from collections.abc import Callable
from typing import Any

Provider = Callable[[list, dict], dict[int, Any]]

_providers: dict[str, Provider] = {}


def register_context_provider(name: str, provider: Provider) -> None:
    _providers[name] = provider


def context_providers() -> dict[str, Provider]:
    return dict(_providers)


def context_values(customers: list, options: dict | None = None) -> dict[int, dict[str, Any]]:
    """{customer_id: {provider name: value}} for every registered provider, or only those named
    in `options["names"]` (what the templates read, from context_options)."""
    options = options or {}
    wanted = options.get("names")
    values: dict[int, dict[str, Any]] = {c.pk: {} for c in customers}
    for name, provider in sorted(_providers.items()):
        if wanted is not None and name not in wanted:
            continue
        for customer_id, value in provider(customers, options).items():
            values[customer_id][name] = value
    return values
