"""The customer list and the customer page: header, timeline (with polling for new entries and
message statuses), orders, events, notes and the audit panel."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from channels.services.reachability import customer_reachable_channels
from customers.models import Channel, Customer
from customers.selectors import customer_get, customer_search
from customers.timeline import (
    InvalidCursor,
    customer_timeline,
    customer_timeline_since,
    timeline_head_cursor,
    timeline_kinds,
)
from workspace import customer_page as cp
from workspace.permissions import staff_permission_required

TABS = ("timeline", "orders", "events", "notes", "audit")
TIMELINE_PAGE = 25
LIST_PAGE = 50


@require_GET
@staff_permission_required("view_customers")
def customer_list(request):
    """Newest customers first, paged by (created_at, id): one index read per page, no count.

    The filter box is the search (indexed lookups and a bounded name search, so no paging). No
    filter by stage or segment here: without an index of its own a rare value means reading the
    whole table; segments and RFM have their own member lists.
    """
    q = request.GET.get("q", "").strip()[:200]
    ctx = {"page": "customers", "q": q}
    if q:
        result = customer_search(q, limit=LIST_PAGE)
        ctx.update(rows=[m.customer for m in result.matches], too_short=result.too_short)
    else:
        customers = Customer.objects.filter(erased_at__isnull=True)
        try:
            page = cp.keyset_page(customers, "created_at", request.GET.get("cursor"), LIST_PAGE)
        except cp.BadCursor:
            page = cp.keyset_page(customers, "created_at", None, LIST_PAGE)
        next_url = f"?{urlencode({'cursor': page.next_cursor})}" if page.next_cursor else None
        ctx.update(rows=page.rows, next_url=next_url)
    template = (
        "workspace/customers/_list_rows.html" if request.htmx else "workspace/customers/list.html"
    )
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _timeline_filters(request) -> dict:
    kinds = timeline_kinds()
    kind = request.GET.get("kind", "")
    channel = request.GET.get("channel", "")
    return {
        "kind": kind if kind in kinds else "",
        "channel": channel if channel in Channel.values else "",
    }


def _timeline_args(filters: dict) -> dict:
    return {
        "kinds": [filters["kind"]] if filters["kind"] else None,
        "channels": [filters["channel"]] if filters["channel"] else None,
    }


def _query(filters: dict, **extra) -> str:
    return urlencode({**{k: v for k, v in filters.items() if v}, **extra})


@require_GET
@staff_permission_required("view_customers")
def customer_page(request, external_id: str):
    customer = customer_get(external_id=external_id)
    tab = request.GET.get("tab", "timeline")
    if tab not in TABS:
        tab = "timeline"
    cursor = request.GET.get("cursor") or None
    ctx = {
        "page": "customers",
        "customer": customer,
        "tab": tab,
        "has_side": True,
        "now": timezone.now(),
    }
    if tab == "timeline":
        filters = _timeline_filters(request)
        try:
            page = customer_timeline(
                customer.pk, cursor=cursor, limit=TIMELINE_PAGE, **_timeline_args(filters)
            )
        except InvalidCursor:
            raise Http404("no such timeline position") from None
        ctx.update(
            filters=filters,
            rows=cp.timeline_rows(page.entries),
            next_url=f"?{_query(filters, cursor=page.next_cursor)}" if page.next_cursor else None,
            head_url=None
            if cursor
            else _since_url(customer, filters, timeline_head_cursor(page.entries, ctx["now"])),
            kinds=timeline_kinds(),
            channels=Channel.choices,
        )
        if request.htmx and cursor:
            response = render(request, "workspace/customers/_timeline_rows.html", ctx)
            patch_vary_headers(response, ["HX-Request"])
            return response
    else:
        selector = {
            "orders": cp.customer_orders,
            "events": cp.customer_events,
            "notes": cp.customer_notes,
            "audit": cp.customer_audit,
        }[tab]
        try:
            page = selector(customer, cursor)
        except cp.BadCursor:
            raise Http404("no such page") from None
        ctx.update(
            rows=page.rows,
            next_url=f"?{urlencode({'tab': tab, 'cursor': page.next_cursor})}"
            if page.next_cursor
            else None,
        )
    ctx.update(cp.customer_header(customer))
    if request.user.has_perm("workspace.reply"):
        ctx["reach"] = customer_reachable_channels(customer)
        ctx["reachable"] = [r for r in ctx["reach"] if r.reachable]
    ctx["tabs"] = [
        {"label": label, "url": f"?tab={key}", "active": key == tab, "count": None}
        for key, label in _tab_labels()
    ]
    response = render(request, "workspace/customers/page.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _since_url(customer, filters: dict, cursor: str) -> str:
    url = reverse("workspace:customer_timeline_since", args=[customer.external_id])
    return f"{url}?{_query(filters, cursor=cursor)}"


def _tab_labels():
    from django.utils.translation import gettext as _

    return [
        ("timeline", _("Timeline")),
        ("orders", _("Orders")),
        ("events", _("Events")),
        ("notes", _("Notes")),
        ("audit", _("Audit")),
    ]


@require_GET
@staff_permission_required("view_customers")
def timeline_since(request, external_id: str):
    """The timeline's head, polled every 2 s while the tab is visible: entries newer than the
    head cursor, then a new head that polls from the newest of them."""
    customer = customer_get(external_id=external_id)
    filters = _timeline_filters(request)
    try:
        page = customer_timeline_since(
            customer.pk, cursor=request.GET.get("cursor", ""), **_timeline_args(filters)
        )
    except InvalidCursor:
        raise Http404("no such timeline position") from None
    ctx = {
        "customer": customer,
        "rows": cp.timeline_rows(page.entries),
        "head_url": _since_url(customer, filters, page.next_cursor),
    }
    return render(request, "workspace/customers/_timeline_since.html", ctx)


@require_GET
@staff_permission_required("view_customers")
def message_status(request, external_id: str, message_id: int):
    """One message entry, re-rendered; it polls itself until the status is final."""
    customer = customer_get(external_id=external_id)
    row = cp.message_with_history(message_id, customer.pk)
    if row is None:
        raise Http404("no such message")
    return render(
        request, "workspace/customers/_status_poll.html", {"row": row, "customer": customer}
    )
