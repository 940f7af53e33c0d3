"""Segment pages: the list, a segment's members (with CSV export) and deleting one.

The editor (rule builder) is in segment_builder.py.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api.audit import client_ip
from api.errors import ApiError
from customers.models import Segment
from customers.segments.pages import (
    segment_is_counting,
    segment_list_page,
    segment_members_csv,
    segment_members_page,
    segment_remove,
)
from workspace.permissions import staff_permission_required


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@staff_permission_required("view_segments")
def segment_list(request):
    rows, next_after = segment_list_page(after=request.GET.get("after") or None)
    ctx = {
        "page": "segments",
        "segments": rows,
        "next_url": f"?{urlencode({'after': next_after})}" if next_after else "",
    }
    return render(request, "customers/segments/list.html", ctx)


@staff_permission_required("view_segments")
def segment_members(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    rows, next_after = segment_members_page(
        segment=segment, after=_int_or_none(request.GET.get("after"))
    )
    ctx = {
        "page": "segments",
        "segment": segment,
        "counting": segment_is_counting(segment),
        "members": rows,
        "next_url": f"?after={next_after}" if next_after else "",
    }
    return render(request, "customers/segments/members.html", ctx)


@staff_permission_required("view_segments")
def segment_status(request, segment_id: int):
    """The member count, polled while a refresh is on its way."""
    segment = get_object_or_404(Segment, pk=segment_id)
    ctx = {"segment": segment, "counting": segment_is_counting(segment)}
    return render(request, "customers/segments/_status.html", ctx)


@staff_permission_required("view_segments")
def segment_members_export(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    response = StreamingHttpResponse(
        segment_members_csv(segment=segment), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-members.csv"'
    return response


@require_POST
@staff_permission_required("manage_segments")
def segment_delete_view(request, segment_id: int):
    segment = get_object_or_404(Segment, pk=segment_id)
    name = segment.name
    try:
        segment_remove(actor=request.user, ip_address=client_ip(request), segment=segment)
    except ApiError as exc:
        if exc.code != "segment_in_use":
            raise
        messages.error(
            request,
            _("“%(name)s” cannot be deleted: %(reason)s") % {"name": name, "reason": exc.message},
        )
        return redirect("customers:segment_members", segment_id=segment_id)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": name})
    return redirect("customers:segments")
