"""Recommendations: how picks are computed, the latest refreshes, and any customer's picks."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from campaigns.recommendations import services
from campaigns.recommendations.models import RecommendationKind
from campaigns.recommendations.selectors import (
    recommendation_last_full_run,
    recommendation_runs_latest,
    recommendations_for_customers,
)
from customers.models import Customer
from customers.selectors import customer_list, customer_search
from workspace.permissions import staff_permission_required


def kinds_with_picks(picks: dict) -> list[dict]:
    return [
        {"kind": kind, "label": label, "products": picks.get(kind, [])}
        for kind, label in RecommendationKind.choices
    ]


@staff_permission_required("view_campaigns")
def recommendations_index(request):
    query = request.GET.get("customer", "").strip()[:200]
    found, matches, picks = None, [], []
    if query:
        result = customer_search(query, limit=10)
        found = result.exact.customer if result.exact else None
        if found is None and len(result.matches) == 1:
            found = result.matches[0].customer
        if found is None:
            matches = [m.customer for m in result.matches]
        else:
            picks = kinds_with_picks(recommendations_for_customers([found.pk])[found.pk])
    last = recommendation_last_full_run()
    counts = [
        {"label": label, "count": (last.counts or {}).get(kind, 0) if last else 0}
        for kind, label in RecommendationKind.choices
    ]
    return render(
        request,
        "campaigns/recommendations/index.html",
        {
            "page": "campaigns",
            "last": last,
            "counts": counts,
            "runs": recommendation_runs_latest(limit=10),
            "query": query,
            "found": found,
            "matches": matches,
            "picks": picks,
            "settings": {
                "top_n": services.TOP_N,
                "window_days": services.WINDOW_DAYS,
                "new_days": services.NEW_DAYS,
                "favourites": services.FAVOURITE_CATEGORIES,
            },
        },
    )


@require_POST
@staff_permission_required("manage_campaigns")
def recommendations_refresh_view(request):
    services.recommendations_refresh_request(actor=request.user, ip_address=client_ip(request))
    messages.success(
        request, _("Refresh queued: everyone's picks are recomputed in the background.")
    )
    return redirect("campaigns:recommendations")


@require_POST
@staff_permission_required("manage_campaigns")
def recommendations_refresh_customer_view(request):
    external_id = request.POST.get("customer", "")[:255]
    customer = customer_list().filter(external_id=external_id).first()
    if not isinstance(customer, Customer):
        messages.error(request, _("No such customer."))
        return redirect("campaigns:recommendations")
    services.recommendations_refresh_request(
        actor=request.user, customer=customer, ip_address=client_ip(request)
    )
    messages.success(request, _("This customer's picks were recomputed."))
    query = QueryDict(mutable=True)
    query["customer"] = customer.external_id
    return redirect(f"{reverse('campaigns:recommendations')}?{query.urlencode()}")
