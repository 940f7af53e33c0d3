"""The trigger map (/app/journeys/map): each segment with the journeys that serve it."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.journeys.trigger_map_rows import (
    trigger_map_rows,
    trigger_map_segment_add,
    trigger_map_segment_remove,
)
from campaigns.views.journey_library import journey_url
from workspace.permissions import staff_permission_required


class MapSegmentForm(forms.Form):
    segment = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("Segment"), empty_label=gettext_lazy("— choose —")
    )

    def __init__(self, *args, shown: set[int] = frozenset(), **kwargs):
        from customers.models import Segment

        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.exclude(pk__in=shown).order_by("name")


@staff_permission_required("view_campaigns")
def journey_map(request):
    rows = trigger_map_rows()
    for row in rows:
        for served in row["journeys"]:
            served["url"] = journey_url(served["journey"].pk)
    form = MapSegmentForm(shown={row["segment"].pk for row in rows})
    uncovered = sum(1 for row in rows if not row["journeys"])
    ctx = {"page": "campaigns", "rows": rows, "form": form, "uncovered": uncovered}
    return render(request, "campaigns/journeys/library/map.html", ctx)


@require_POST
@staff_permission_required("manage_campaigns")
def journey_map_add(request):
    form = MapSegmentForm(request.POST)
    if form.is_valid():
        segment = form.cleaned_data["segment"]
        trigger_map_segment_add(segment=segment, actor=request.user)
        messages.success(request, _("“%(name)s” is on the map.") % {"name": segment.name})
    else:
        messages.error(request, _("Choose a segment to add."))
    return redirect("campaigns:journey_map")


@require_POST
@staff_permission_required("manage_campaigns")
def journey_map_remove(request, segment_id: int):
    from customers.models import Segment

    segment = get_object_or_404(Segment, pk=segment_id)
    if trigger_map_segment_remove(segment=segment, actor=request.user):
        messages.success(request, _("“%(name)s” is off the map.") % {"name": segment.name})
    return redirect("campaigns:journey_map")
