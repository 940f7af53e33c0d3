"""New journey from a ready-made template: the gallery of cards, and the form that makes a draft."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from campaigns.journeys.library import LIBRARY, LibraryError, library_get, library_journey_create
from campaigns.journeys.library_forms import LibraryJourneyForm
from campaigns.journeys.services.authoring import JourneyError
from workspace.permissions import staff_permission_required


def _segment_param(request) -> int | None:
    value = request.GET.get("segment", "")
    return int(value) if value.isdigit() else None


def journey_url(journey_id: int) -> str:
    """The builder's page of a journey (its own helper adds it), else the path it will have."""
    try:
        return reverse("campaigns:journey", args=[journey_id])
    except NoReverseMatch:
        return f"/app/campaigns/journeys/{journey_id}/"


@staff_permission_required("view_campaigns")
def journey_library(request):
    segment = _segment_param(request)
    cards = [
        {"entry": entry, "needs": [str(slot.label) for slot in entry.slots]} for entry in LIBRARY
    ]
    ctx = {"page": "campaigns", "cards": cards, "segment": segment}
    return render(request, "campaigns/journeys/library/gallery.html", ctx)


@staff_permission_required("manage_campaigns")
def journey_library_use(request, key: str):
    entry = library_get(key)
    if entry is None:
        raise Http404
    segment = _segment_param(request)
    form = LibraryJourneyForm(request.POST or None, entry=entry, preset_segment=segment)
    if request.method == "POST" and form.is_valid():
        try:
            journey = library_journey_create(
                key=entry.key,
                values=form.values(),
                actor=request.user,
                name=form.cleaned_data["name"],
            )
        except LibraryError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except JourneyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Draft “%(name)s” created: review and publish it.") % {"name": journey}
            )
            return redirect(journey_url(journey.pk))
    ctx = {"page": "campaigns", "entry": entry, "form": form, "segment": segment}
    return render(request, "campaigns/journeys/library/use.html", ctx)
