"""Global search: the header box's results page and its as-you-type popover."""

from django.shortcuts import redirect, render

from customers.selectors import customer_search
from workspace.permissions import staff_permission_required

PAGE_LIMIT = 50
POPOVER_LIMIT = 8


@staff_permission_required("view_customers")
def search(request):
    q = request.GET.get("q", "")
    result = customer_search(q, limit=PAGE_LIMIT)
    exact = result.exact
    # One exact hit (phone, email, CRM id, order id, address) opens the customer directly.
    if exact is not None and not request.GET.get("all") and not request.htmx:
        return redirect("workspace:customer", external_id=exact.customer.external_id)
    ctx = {"page": "customers", "result": result, "q": result.query}
    return render(request, "workspace/search/results.html", ctx)


@staff_permission_required("view_customers")
def search_popover(request):
    result = customer_search(request.GET.get("q", ""), limit=POPOVER_LIMIT)
    return render(request, "workspace/search/_popover.html", {"result": result})
