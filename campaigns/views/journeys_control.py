"""Publishing a journey (with its checks and, when runs are open on the live version, where each
of them moves), pausing, resuming and archiving it, and the dry run for one customer."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from campaigns.journeys.definition import Definition
from campaigns.journeys.models import Journey
from campaigns.journeys.selectors import journey_open_runs_by_step
from campaigns.journeys.services.authoring import (
    JourneyError,
    journey_archive,
    journey_pause,
    journey_publish,
    journey_resume,
)
from campaigns.journeys.services.checks import definition_problems
from campaigns.journeys.services.dryrun import journey_dry_run
from campaigns.views.broadcasts_labels import reason_label
from campaigns.views.journeys_labels import kind_label, status_of, way_label
from customers.selectors import customer_search
from workspace.permissions import forbidden, staff_permission_required

STAY = ""  # the mapping select's value for "stay on the old version"


def _definition(data: dict) -> Definition | None:
    try:
        return Definition.model_validate(data)
    except ValidationError:
        return None


def _open_steps(journey: Journey) -> list[dict]:
    """Steps of the live version where runs are open now, with how many."""
    if journey.live_version_id is None:
        return []
    by_step = journey_open_runs_by_step(journey).get(journey.live_version_id, {})
    return [{"step": step, "n": n} for step, n in sorted(by_step.items())]


def _mapping_rows(journey: Journey, draft: Definition | None, data=None) -> list[dict]:
    old = _definition(journey.live_version.definition) if journey.live_version_id else None
    new_steps = [(s.id, s.name or s.id) for s in draft.steps] if draft else []
    new_ids = {i for i, _n in new_steps}
    rows = []
    for entry in _open_steps(journey):
        step_id = entry["step"]
        old_step = old.step(step_id) if old else None
        default = step_id if step_id in new_ids else STAY
        chosen = data.get(f"map_{step_id}", default) if data is not None else default
        rows.append(
            {
                "step": step_id,
                "name": (old_step.name if old_step else "") or step_id,
                "n": entry["n"],
                "field": f"map_{step_id}",
                "choices": new_steps,
                "chosen": chosen if chosen in new_ids else STAY,
            }
        )
    return rows


@staff_permission_required("view_campaigns")
def journey_publish_view(request, journey_id: int):
    """GET: what publishing will do (problems, open runs to move); POST: publish."""
    journey = get_object_or_404(Journey.objects.select_related("live_version"), pk=journey_id)
    draft = _definition(journey.draft)
    problems = definition_problems(draft) if draft is not None else []
    status = 200
    if request.method == "POST":
        if not request.user.has_perm("workspace.manage_campaigns"):
            return forbidden(request)
        rows = _mapping_rows(journey, draft, request.POST)
        mapping = {r["step"]: r["chosen"] for r in rows if r["chosen"] != STAY}
        try:
            version = journey_publish(
                journey=journey,
                actor=request.user,
                mapping=mapping or None,
                note=request.POST.get("note", "")[:300],
            )
        except JourneyError as error:
            problems = list(getattr(error, "problems", None) or problems)
            if not getattr(error, "problems", None):
                messages.error(request, getattr(error, "message", str(error)))
            status = 400
        else:
            messages.success(
                request, _("Version %(n)s published.") % {"n": getattr(version, "number", "")}
            )
            return redirect("campaigns:journey", journey_id=journey.pk)
    else:
        rows = _mapping_rows(journey, draft)
    ctx = {
        "page": "campaigns",
        "journey": journey,
        "status": status_of(journey),
        "problems": problems,
        "rows": rows,
        "note": request.POST.get("note", "") if request.method == "POST" else "",
        "editable": request.user.has_perm("workspace.manage_campaigns"),
        "failed": status == 400,
    }
    return render(request, "campaigns/journeys/publish.html", ctx, status=status)


def _control(service, done):
    @require_POST
    @staff_permission_required("manage_campaigns")
    def view(request, journey_id: int):
        journey = get_object_or_404(Journey, pk=journey_id)
        try:
            service(journey=journey, actor=request.user)
        except JourneyError as error:
            messages.error(request, getattr(error, "message", str(error)))
        else:
            messages.success(request, str(done))
        return redirect("campaigns:journey", journey_id=journey.pk)

    view.__name__ = service.__name__ + "_view"
    return view


journey_pause_view = _control(
    journey_pause,
    gettext_lazy("Journey paused: no one enters and no step runs until you resume it."),
)
journey_resume_view = _control(journey_resume, gettext_lazy("Journey resumed."))
journey_archive_view = _control(
    journey_archive, gettext_lazy("Journey archived: its open runs have ended.")
)


def _wait_assumptions(definition: Definition | None, data) -> list[dict]:
    """One select per wait for outcomes: which of its outcomes (or the timeout) to assume."""
    rows = []
    for step in definition.steps if definition else []:
        if step.type == "wait" and step.mode == "outcomes":
            choices = [(o.name, way_label(o.name)) for o in step.outcomes]
            choices.append(("timeout", way_label("timeout")))
        elif step.type == "cascade":
            choices = [("outcome", way_label("outcome")), ("next", _("no outcome"))]
        else:
            continue
        rows.append(
            {
                "step": step.id,
                "name": step.name or step.id,
                "field": f"assume_{step.id}",
                "choices": choices,
                "chosen": data.get(f"assume_{step.id}", ""),
            }
        )
    return rows


@staff_permission_required("view_campaigns")
def journey_dry_run_view(request, journey_id: int):
    """A customer found by email, phone or id; the path the draft would take them on, with the
    messages rendered for them. Nothing is sent or stored."""
    journey = get_object_or_404(Journey, pk=journey_id)
    definition = _definition(journey.draft)
    q = request.GET.get("q", "").strip()[:200]
    assumptions = _wait_assumptions(definition, request.GET)
    ctx = {
        "page": "campaigns",
        "journey": journey,
        "status": status_of(journey),
        "q": q,
        "assumptions": assumptions,
        "matches": [],
        "customer": None,
        "path": None,
    }
    if q:
        result = customer_search(q, limit=10)
        customers = [m.customer for m in result.matches]
        chosen = request.GET.get("customer", "")
        customer = next((c for c in customers if c.external_id == chosen), None)
        if customer is None and len(customers) == 1:
            customer = customers[0]
        ctx["matches"] = customers
        if customer is not None and definition is not None:
            assume = {a["step"]: a["chosen"] for a in assumptions if a["chosen"]}
            try:
                steps = journey_dry_run(journey=journey, customer=customer, assume=assume or None)
                ctx["path"] = [
                    {
                        "step": s.step,
                        "kind": kind_label(s.type),
                        "type": s.type,
                        "name": s.name,
                        "what": s.what,
                        "way": s.way,
                        "way_text": way_label(s.way),
                        "messages": [
                            {
                                "channel": m.channel,
                                "subject": m.subject,
                                "body": m.body,
                                "refusal": reason_label(m.refusal) if m.refusal else "",
                            }
                            for m in s.messages
                        ],
                    }
                    for s in steps
                ]
            except JourneyError as error:
                ctx["error"] = getattr(error, "message", str(error))
            ctx["customer"] = customer
    return render(request, "campaigns/journeys/dry_run.html", ctx)
