"""The builder's step actions: a step's panel (GET, also as an HTMX fragment) and its save, adding
a step on a way out of another, removing one. Each write is one authoring service; an error it
names lands on the form's field, and the page comes back with the form and nothing changed."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from campaigns.journeys.definition import Definition
from campaigns.journeys.form_fields import pydantic_errors
from campaigns.journeys.models import Journey, JourneyStatus
from campaigns.journeys.services.authoring import (
    JourneyError,
    journey_step_add,
    journey_step_remove,
    journey_step_update,
)
from campaigns.views.journeys import builder_context
from campaigns.views.journeys_panel import add_panel, edit_panel, step_form
from workspace.permissions import forbidden, staff_permission_required

PANEL = "campaigns/journeys/_panel.html"


def _load(journey_id: int) -> tuple[Journey, Definition]:
    journey = get_object_or_404(Journey.objects.select_related("live_version"), pk=journey_id)
    try:
        return journey, Definition.model_validate(journey.draft)
    except ValidationError:
        raise Http404("the draft cannot be read") from None


def _can_edit(request, journey: Journey) -> bool:
    return (
        request.user.has_perm("workspace.manage_campaigns")
        and journey.status != JourneyStatus.ARCHIVED
    )


def _respond(request, journey: Journey, panel: dict, status: int = 200):
    """The panel alone for HTMX, else the whole builder with this panel."""
    if request.htmx and request.method == "GET":
        ctx = {"journey": journey, "panel": panel, "editable": panel.get("editable", True)}
        response = render(request, PANEL, ctx, status=status)
    else:
        ctx = builder_context(request, journey, panel=panel)
        response = render(request, "campaigns/journeys/builder.html", ctx, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _service_error(form, error: Exception) -> None:
    if isinstance(error, ValidationError):
        for field, message in pydantic_errors(error, form.field_for):
            form.add_error(field if field in form.fields else None, message)
        return
    field = getattr(error, "field", None) or ""
    # The service names the definition's field (e.g. "steps.3.template_id"): its last part.
    field = str(field).split(".")[-1]
    field = {"template_id": "template", "pool_id": "pool", "segment_id": "segment"}.get(
        field, field
    )
    form.add_error(field if field in form.fields else None, getattr(error, "message", str(error)))


def _builder_url(journey: Journey, step_id: str = "") -> str:
    url = reverse("campaigns:journey", args=[journey.pk])
    return f"{url}?step={step_id}#jr-panel" if step_id else url


@staff_permission_required("view_campaigns")
def journey_step(request, journey_id: int, step_id: str):
    journey, definition = _load(journey_id)
    if definition.step(step_id) is None:
        raise Http404("no such step")
    editable = _can_edit(request, journey)
    if request.method == "POST":
        if not editable:
            return forbidden(request)
        form = step_form(definition, step_id, data=request.POST)
        if form.is_valid():
            try:
                journey_step_update(
                    journey=journey, step_id=step_id, step=form.step(), actor=request.user
                )
            except (JourneyError, ValidationError) as error:
                _service_error(form, error)
            else:
                messages.success(request, _("Step saved to the draft."))
                return redirect(_builder_url(journey, step_id))
        panel = edit_panel(journey, definition, step_id, form, editable)
        return _respond(request, journey, panel, status=400)
    form = step_form(definition, step_id, editable=editable)
    return _respond(request, journey, edit_panel(journey, definition, step_id, form, editable))


@staff_permission_required("view_campaigns")
def journey_step_add_view(request, journey_id: int):
    """GET ?after=<step>&label=<way out>&type=<kind>: the chooser, then the form; POST: add."""
    journey, definition = _load(journey_id)
    if not _can_edit(request, journey):
        return forbidden(request)
    source = request.POST if request.method == "POST" else request.GET
    after = source.get("after", "")
    panel = add_panel(
        journey,
        definition,
        after=after,
        label=source.get("label", ""),
        step_type=source.get("type", ""),
        data=request.POST if request.method == "POST" else None,
    )
    if panel is None:
        raise Http404("no such step")
    if request.method == "POST":
        form = panel.get("form")
        if form is None:
            return _respond(request, journey, panel, status=400)
        if form.is_valid():
            try:
                result = journey_step_add(
                    journey=journey,
                    after=after or None,
                    label=panel["label"],
                    step=form.step(),
                    actor=request.user,
                )
            except (JourneyError, ValidationError) as error:
                _service_error(form, error)
            else:
                messages.success(request, _("Step added to the draft."))
                return redirect(_builder_url(journey, _new_step_id(result, journey)))
        return _respond(request, journey, panel, status=400)
    return _respond(request, journey, panel)


def _new_step_id(result, journey: Journey) -> str:
    """The added step's id, whatever the service returns (the step id, the step, or the
    journey, whose newest step is then the last one)."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        return result.get("id", "")
    step_id = getattr(result, "id", None)
    if isinstance(step_id, str):
        return step_id
    journey.refresh_from_db(fields=["draft"])
    steps = journey.draft.get("steps") or []
    return steps[-1]["id"] if steps else ""


@require_POST
@staff_permission_required("manage_campaigns")
def journey_step_remove_view(request, journey_id: int, step_id: str):
    journey, _definition = _load(journey_id)
    if journey.status == JourneyStatus.ARCHIVED:
        return forbidden(request)
    try:
        journey_step_remove(journey=journey, step_id=step_id, actor=request.user)
    except JourneyError as error:
        messages.error(request, getattr(error, "message", str(error)))
        return redirect(_builder_url(journey, step_id))
    messages.success(request, _("Step removed from the draft."))
    return redirect(_builder_url(journey))
