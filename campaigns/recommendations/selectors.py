"""Reading picks: for a batch of customers in one query, and what the page summarises."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from campaigns.recommendations.models import Recommendation, RecommendationKind, RecommendationRun
from campaigns.recommendations.services import TOP_N


def product_dict(product) -> dict[str, Any]:
    """What a template sees of a product: `{{ p.name }}`, `{{ p.url }}`, `{{ p.price }}`…"""
    return {
        "sku": product.sku,
        "name": product.name,
        "url": product.url,
        "image_url": product.image_url,
        "price": product.price,
        "currency": product.currency,
        "category": product.category,
    }


def recommendations_for_customers(
    customer_ids: Iterable[int], *, limit: int = TOP_N, kinds: Iterable[str] | None = None
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """{customer_id: {kind: [product dict, best first]}}; every kind present, maybe empty."""
    ids = list(customer_ids)
    kinds = list(kinds) if kinds is not None else list(RecommendationKind.values)
    result = {pk: {kind: [] for kind in kinds} for pk in ids}
    if not ids:
        return result
    rows = (
        Recommendation.objects.filter(customer_id__in=ids, kind__in=kinds, rank__lte=limit)
        .select_related("product")
        .order_by("customer_id", "kind", "rank")
    )
    for rec in rows:
        item = product_dict(rec.product)
        item["rank"] = rec.rank
        item["score"] = rec.score
        result[rec.customer_id][rec.kind].append(item)
    return result


def recommendations_context(customers: list, options: dict) -> dict[int, dict[str, list]]:
    """The "recommendations" template context provider (see campaigns/context.py)."""
    limit = int(options.get("recommendations_limit", TOP_N))
    return recommendations_for_customers([c.pk for c in customers], limit=limit)


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
