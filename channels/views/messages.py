"""The message log, one message, and the sandbox outbox (/app/messages/…)."""

from urllib.parse import quote

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from channels.message_log import (
    SCAN_WINDOW,
    MessageLogFilter,
    message_detail,
    message_log_page,
    message_log_queryset,
    sandbox_outbox_page,
)
from workspace.permissions import staff_permission_required


def _next_url(request, cursor: str | None) -> str:
    if not cursor:
        return ""
    params = request.GET.copy()
    params["cursor"] = cursor
    return f"{request.path}?{params.urlencode()}"


@require_GET
@staff_permission_required("view_messages")
def message_log(request):
    filters = MessageLogFilter(request.GET or None, queryset=message_log_queryset())
    page = message_log_page(
        filters.qs, cursor=request.GET.get("cursor"), window_base=filters.scan_window_base()
    )
    active = [
        (field, filters.form[field].label, filters.form.cleaned_data.get(field))
        for field in filters.form.fields
        if filters.is_bound and filters.form.cleaned_data.get(field) not in (None, "")
    ]
    ctx = {
        "page": "messages",
        "filters": filters,
        "active_filters": _chips(request, active, filters),
        "rows": page.rows,
        "next_url": _next_url(request, page.next_cursor),
        "searched": page.searched,
        "scan_window": SCAN_WINDOW,
        "is_next_page": bool(request.GET.get("cursor")),
        "sandbox_on": settings.MESSAGING_SANDBOX,
    }
    return render(request, "channels/message_log.html", ctx)


def _chips(request, active, filters) -> list[dict]:
    """Active filters as removable chips: each links to the log without that one filter."""
    chips = []
    for field, label, value in active:
        params = request.GET.copy()
        params.pop(field, None)
        params.pop("cursor", None)
        bound = filters.form[field]
        shown = value
        choices = dict(getattr(bound.field, "choices", []) or [])
        if choices and str(value) in choices:
            shown = choices[str(value)]
        query = params.urlencode()
        chips.append(
            {
                "label": label,
                "value": shown,
                "remove_url": f"{request.path}?{query}" if query else request.path,
            }
        )
    return chips


@require_GET
@staff_permission_required("view_messages")
def message(request, message_id: int):
    detail = message_detail(message_id)
    if detail is None:
        raise Http404
    ctx = {
        "page": "messages",
        **detail,
        "body_url": reverse("channels:message_body", args=[message_id]),
        "customer_url": f"/app/customers/{quote(detail['message'].customer.external_id, safe='')}/",
        "has_side": True,
    }
    return render(request, "channels/message_detail.html", ctx)


@require_GET
@staff_permission_required("view_messages")
def sandbox(request):
    ctx = {"page": "messages", "sandbox_on": settings.MESSAGING_SANDBOX}
    if settings.MESSAGING_SANDBOX:
        page = sandbox_outbox_page(cursor=request.GET.get("cursor"))
        ctx.update(rows=page.rows, next_url=_next_url(request, page.next_cursor))
    return render(request, "channels/sandbox.html", ctx)
