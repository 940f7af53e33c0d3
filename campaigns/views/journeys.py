"""Journey pages: the list, "New journey" and its settings, and the builder (the draft's graph,
its problems, the step panel, the versions)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from pydantic import ValidationError

from campaigns.journeys.definition import Definition
from campaigns.journeys.forms_journey import JourneyForm, journey_initial
from campaigns.journeys.models import Journey, JourneyStatus, JourneyVersion
from campaigns.journeys.selectors import journey_step_counts, journey_totals, journeys_page
from campaigns.journeys.services.authoring import JourneyError, journey_create, journey_draft_save
from campaigns.journeys.services.checks import definition_problems
from campaigns.views.journeys_graph import graph_context
from campaigns.views.journeys_labels import status_of, trigger_summary
from campaigns.views.journeys_panel import panel_context
from workspace.permissions import staff_permission_required


def _parsed(data: dict) -> Definition | None:
    try:
        return Definition.model_validate(data)
    except ValidationError:
        return None


@staff_permission_required("view_campaigns")
def journey_list(request):
    status = request.GET.get("status", "")
    if status not in JourneyStatus.values:
        status = ""
    after = request.GET.get("before", "")
    page, next_id = journeys_page(status=status, after_id=int(after) if after.isdigit() else None)
    totals = journey_totals([j.pk for j in page])
    rows = [
        {
            "journey": j,
            "status": status_of(j),
            "trigger": trigger_summary(_parsed(j.draft)),
            "counts": totals[j.pk],
        }
        for j in page
    ]
    next_url = ""
    if next_id:
        query = request.GET.copy()
        query["before"] = str(next_id)
        next_url = f"{request.path}?{query.urlencode()}"
    ctx = {
        "page": "campaigns",
        "rows": rows,
        "next_url": next_url,
        "status": status,
        "statuses": JourneyStatus.choices,
        "is_filtered": bool(status or request.GET.get("before")),
    }
    template = (
        "campaigns/journeys/_list_rows.html" if request.htmx else "campaigns/journeys/list.html"
    )
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _settings_error(form: JourneyForm, error: JourneyError) -> None:
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, getattr(error, "message", str(error)))


def _validation_to_form(form: JourneyForm, error: ValidationError) -> None:
    from campaigns.journeys.form_fields import pydantic_errors

    for field, message in pydantic_errors(error, form._field_for):
        form.add_error(field if field in form.fields else None, message)


@staff_permission_required("manage_campaigns")
def journey_new(request):
    form = JourneyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            journey = journey_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                definition=form.definition(),
                actor=request.user,
            )
        except JourneyError as error:
            _settings_error(form, error)
        except ValidationError as error:
            _validation_to_form(form, error)
        else:
            messages.success(request, _("Journey created. Add its first step."))
            return redirect("campaigns:journey", journey_id=journey.pk)
    ctx = {"page": "campaigns", "form": form, "journey": None}
    return render(request, "campaigns/journeys/form.html", ctx, status=400 if form.errors else 200)


@staff_permission_required("manage_campaigns")
def journey_settings(request, journey_id: int):
    journey = get_object_or_404(Journey, pk=journey_id)
    form = JourneyForm(request.POST or None, initial=journey_initial(journey))
    if request.method == "POST" and form.is_valid():
        try:
            journey_draft_save(
                journey=journey,
                definition=form.definition(journey.draft),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except JourneyError as error:
            _settings_error(form, error)
        except ValidationError as error:
            _validation_to_form(form, error)
        else:
            messages.success(request, _("Settings saved to the draft."))
            return redirect("campaigns:journey", journey_id=journey.pk)
    ctx = {"page": "campaigns", "form": form, "journey": journey}
    return render(request, "campaigns/journeys/form.html", ctx, status=400 if form.errors else 200)


def builder_context(request, journey: Journey, *, panel: dict | None = None) -> dict:
    """Everything the builder page shows; `panel` replaces the side panel's step part (a form
    with errors, after a POST)."""
    definition = _parsed(journey.draft)
    editable = request.user.has_perm("workspace.manage_campaigns") and (
        journey.status != JourneyStatus.ARCHIVED
    )
    problems = definition_problems(definition) if definition is not None else []
    counts = journey_step_counts(journey.live_version) if journey.live_version_id else None
    if panel is None:
        panel = panel_context(request, journey, definition, editable=editable)
    selected = panel.get("step_id", "") if panel else ""
    ctx = {
        "page": "campaigns",
        "journey": journey,
        "status": status_of(journey),
        "definition": definition,
        "problems": problems,
        "editable": editable,
        "versions": list(journey.versions.order_by("-number")[:20]),
        "panel": panel,
        "unpublished": journey.draft_changed and journey.live_version_id is not None,
        "never_published": journey.live_version_id is None,
        "trigger": trigger_summary(definition),
    }
    if definition is not None:
        ctx.update(
            graph_context(
                journey,
                definition,
                counts=counts,
                problem_steps={p.step for p in problems if p.step},
                selected=selected,
                editable=editable,
            )
        )
    return ctx


@staff_permission_required("view_campaigns")
def journey_detail(request, journey_id: int):
    journey = get_object_or_404(Journey.objects.select_related("live_version"), pk=journey_id)
    ctx = builder_context(request, journey)
    response = render(request, "campaigns/journeys/builder.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_permission_required("view_campaigns")
def journey_version(request, journey_id: int, number: int):
    """A published version's graph, read-only, with its own counts."""
    journey = get_object_or_404(Journey, pk=journey_id)
    version = get_object_or_404(JourneyVersion, journey=journey, number=number)
    definition = _parsed(version.definition)
    if definition is None:
        raise Http404("unreadable version")
    ctx = {
        "page": "campaigns",
        "journey": journey,
        "version": version,
        "status": status_of(journey),
        "trigger": trigger_summary(definition),
        "versions": list(journey.versions.order_by("-number")[:20]),
        **graph_context(
            journey, definition, counts=journey_step_counts(version), static_graph=True
        ),
    }
    return render(request, "campaigns/journeys/version.html", ctx)
