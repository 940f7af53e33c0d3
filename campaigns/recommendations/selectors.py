"""Reading picks: for a batch of customers in one query, and what the page summarises."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from campaigns.recommendations.models import Recommendation, RecommendationKind, RecommendationRun
from campaigns.recommendations.services import TOP_N

# What a template sees of a product: `{{ p.name }}`, `{{ p.url }}`, `{{ p.price }}`…
_PRODUCT_FIELDS = ("sku", "name", "url", "image_url", "price", "currency", "category")


def recommendations_for_customers(
    customer_ids: Iterable[int], *, limit: int = TOP_N, kinds: Iterable[str] | None = None
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """{customer_id: {kind: [product dict, best first]}}; every kind present, maybe empty.

    One query of plain rows (a broadcast chunk of 1,000 customers may have 40,000 picks, and model
    instances would cost ten times more); each product's dict is made once."""
    ids = list(customer_ids)
    kinds = list(kinds) if kinds is not None else list(RecommendationKind.values)
    result = {pk: {kind: [] for kind in kinds} for pk in ids}
    if not ids or not kinds:
        return result
    rows = (
        Recommendation.objects.filter(customer_id__in=ids, kind__in=kinds, rank__lte=limit)
        .order_by("customer_id", "kind", "rank")
        .values_list(
            "customer_id",
            "kind",
            "rank",
            "score",
            "product_id",
            *(f"product__{name}" for name in _PRODUCT_FIELDS),
        )
    )
    products: dict[int, dict[str, Any]] = {}
    for customer_id, kind, rank, score, product_id, *fields in rows:
        product = products.get(product_id)
        if product is None:
            product = products[product_id] = dict(zip(_PRODUCT_FIELDS, fields, strict=True))
        result[customer_id][kind].append({**product, "rank": rank, "score": score})
    return result


def recommendations_context(customers: list, options: dict) -> dict[int, dict[str, list]]:
    """The "recommendations" template context provider (see campaigns/context.py). Options:
    `recommendations_limit` (picks of each kind, 10 by default) and `recommendations_kinds` (only
    these kinds, e.g. the ones a template reads)."""
    limit = int(options.get("recommendations_limit", TOP_N))
    return recommendations_for_customers(
        [c.pk for c in customers], limit=limit, kinds=options.get("recommendations_kinds")
    )


def recommendation_runs_latest(*, limit: int = 10) -> list[RecommendationRun]:
    return list(
        RecommendationRun.objects.select_related("customer").order_by("-started_at")[:limit]
    )


def recommendation_last_full_run() -> RecommendationRun | None:
    return RecommendationRun.objects.filter(customer__isnull=True).order_by("-started_at").first()


def recommendations_computed_at(customer):
    """When this customer's picks were last computed (a refresh of everyone or of them)."""
    run = (
        RecommendationRun.objects.filter(Q(customer__isnull=True) | Q(customer=customer))
        .order_by("-started_at")
        .only("finished_at")
        .first()
    )
    return run.finished_at if run else None


def customer_picks_panel(customer, *, limit: int = 3) -> list[dict]:
    """The customer page's panel: the top `limit` of each kind, labelled (one query)."""
    picks = recommendations_for_customers([customer.pk], limit=limit)[customer.pk]
    return [
        {"kind": kind, "label": label, "products": picks[kind]}
        for kind, label in RecommendationKind.choices
    ]
