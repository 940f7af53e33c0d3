"""Customer-journey maps: the list, a map's board (stages × channel rows, printable), the map's
form, its stages, and each stage × channel cell, edited in place with HTMX or on its own page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.planning.forms import CellForm, CjmForm, LinkForm, StageForm
from campaigns.planning.models import CELL_FIELDS, CjmCell, CjmSolutionLink, CjmStage
from campaigns.planning.models import CustomerJourneyMap as Cjm
from campaigns.planning.selectors import cjm_board, cjm_list, cjm_stages, link_targets
from campaigns.planning.services import (
    cjm_cell_save,
    cjm_create,
    cjm_delete,
    cjm_link_add,
    cjm_link_remove,
    cjm_stage_add,
    cjm_stage_delete,
    cjm_stage_move,
    cjm_stage_update,
    cjm_update,
)
from workspace.permissions import staff_permission_required

FIELD_LABELS = dict(CELL_FIELDS)


def errors_to_form(form, error: ValidationError) -> None:
    """A service's refusal, shown beside the field it names (or above the form)."""
    for name, problems in error.message_dict.items():
        if name in ("kind", "object_id") and "target" in form.fields:
            name = "target"  # the picker that chose both
        form.add_error(name if name in form.fields else None, problems)


@staff_permission_required("view_campaigns")
def cjm_index(request):
    ctx = {"page": "campaigns", "maps": list(cjm_list()[:200])}
    return render(request, "campaigns/planning/cjm_list.html", ctx)


@staff_permission_required("manage_campaigns")
def cjm_new(request):
    form = CjmForm(request.POST or None, channels=["email", "sms", "push"])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cjm = cjm_create(
                name=data["name"],
                audience=data["audience"],
                description=data["description"],
                channels=form.channels_value(),
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Map “%(name)s” created.") % {"name": cjm.name})
            return redirect("campaigns:cjm", cjm_id=cjm.pk)
    return render(request, "campaigns/planning/cjm_form.html", {"page": "campaigns", "form": form})


@staff_permission_required("manage_campaigns")
def cjm_edit(request, cjm_id: int):
    cjm = get_object_or_404(Cjm, pk=cjm_id)
    initial = {"name": cjm.name, "audience": cjm.audience, "description": cjm.description}
    form = CjmForm(request.POST or None, initial=initial, channels=cjm.channels)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cjm_update(
                cjm=cjm,
                name=data["name"],
                audience=data["audience"],
                description=data["description"],
                channels=form.channels_value(),
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Map saved."))
            return redirect("campaigns:cjm", cjm_id=cjm.pk)
    ctx = {"page": "campaigns", "form": form, "cjm": cjm}
    return render(request, "campaigns/planning/cjm_form.html", ctx)


@require_POST
@staff_permission_required("manage_campaigns")
def cjm_delete_view(request, cjm_id: int):
    cjm = get_object_or_404(Cjm, pk=cjm_id)
    cjm_delete(cjm=cjm)
    messages.success(request, _("Map “%(name)s” deleted.") % {"name": cjm.name})
    return redirect("campaigns:cjms")


def _board_rows(board: dict) -> list[dict]:
    """The board as the template walks it: per channel, five rows, one cell per stage."""
    rows = []
    for channel in board["channels"]:
        fields = []
        for name, label in CELL_FIELDS:
            cells = []
            for stage in board["stages"]:
                cell = board["cells"].get((stage.pk, channel))
                links = []
                if cell is not None and name == "solutions":
                    links = [board["targets"][(lk.kind, lk.object_id)] for lk in cell.links.all()]
                cells.append(
                    {
                        "stage": stage,
                        "text": getattr(cell, name, "") if cell else "",
                        "links": links,
                    }
                )
            fields.append({"name": name, "label": label, "cells": cells})
        rows.append({"channel": channel, "fields": fields})
    return rows


@staff_permission_required("view_campaigns")
def cjm_detail(request, cjm_id: int):
    cjm = get_object_or_404(Cjm, pk=cjm_id)
    board = cjm_board(cjm)
    stages = []
    for stage in board["stages"]:
        conversion = board["conversions"].get(stage.pk)
        pct = "" if conversion is None else f"{number_format(conversion * 100, 0)} %"
        stages.append({"stage": stage, "conversion": conversion, "conversion_pct": pct})
    ctx = {
        "page": "campaigns",
        "cjm": cjm,
        "stages": stages,
        "rows": _board_rows(board),
        "can_edit": request.user.has_perm("workspace.manage_campaigns"),
    }
    return render(request, "campaigns/planning/cjm_board.html", ctx)


@staff_permission_required("manage_campaigns")
def cjm_stages_view(request, cjm_id: int):
    """The map's stages: rename, set the segment, move, delete, add. Each form posts an action."""
    cjm = get_object_or_404(Cjm, pk=cjm_id)
    stages = {s.pk: s for s in cjm_stages(cjm)}
    add_form = StageForm(prefix="new")
    bound: dict[int, StageForm] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        stage = stages.get(_int(request.POST.get("stage")))
        if action == "add":
            add_form = StageForm(request.POST, prefix="new")
            if add_form.is_valid():
                try:
                    cjm_stage_add(cjm=cjm, **add_form.cleaned_data)
                except ValidationError as error:
                    errors_to_form(add_form, error)
                else:
                    messages.success(request, _("Stage added."))
                    return redirect("campaigns:cjm_stages", cjm_id=cjm.pk)
        elif stage is None:
            raise Http404("no such stage on this map")
        elif action == "save":
            form = StageForm(request.POST, prefix=f"s{stage.pk}")
            bound[stage.pk] = form
            if form.is_valid():
                try:
                    cjm_stage_update(stage=stage, **form.cleaned_data)
                except ValidationError as error:
                    errors_to_form(form, error)
                else:
                    messages.success(request, _("Stage saved."))
                    return redirect("campaigns:cjm_stages", cjm_id=cjm.pk)
        elif action in ("left", "right"):
            cjm_stage_move(stage=stage, offset=-1 if action == "left" else 1)
            return redirect("campaigns:cjm_stages", cjm_id=cjm.pk)
        elif action == "delete":
            cjm_stage_delete(stage=stage)
            messages.success(request, _("Stage “%(name)s” deleted.") % {"name": stage.name})
            return redirect("campaigns:cjm_stages", cjm_id=cjm.pk)
    rows = [
        {
            "stage": s,
            "form": bound.get(s.pk)
            or StageForm(prefix=f"s{s.pk}", initial={"name": s.name, "segment": s.segment_id}),
        }
        for s in stages.values()
    ]
    ctx = {"page": "campaigns", "cjm": cjm, "rows": rows, "add_form": add_form}
    status = 400 if any(f.errors for f in [add_form, *bound.values()]) else 200
    return render(request, "campaigns/planning/cjm_stages.html", ctx, status=status)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _cell_of(cjm_id: int, stage_id: int, channel: str) -> tuple[Cjm, CjmStage, CjmCell | None]:
    stage = get_object_or_404(CjmStage.objects.select_related("cjm"), pk=stage_id, cjm_id=cjm_id)
    cell = CjmCell.objects.filter(stage=stage, channel=channel).prefetch_related("links").first()
    return stage.cjm, stage, cell


@staff_permission_required("manage_campaigns")
def cjm_cell(request, cjm_id: int, stage_id: int, channel: str):
    """A stage × channel cell on its own page: its five texts and the solution's links."""
    cjm, stage, cell = _cell_of(cjm_id, stage_id, channel)
    initial = {name: getattr(cell, name) for name, _l in CELL_FIELDS} if cell else {}
    form = CellForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cjm_cell_save(stage=stage, channel=channel, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Cell saved."))
            return redirect("campaigns:cjm", cjm_id=cjm.pk)
    links = list(cell.links.all()) if cell else []
    targets = link_targets({(lk.kind, lk.object_id) for lk in links})
    ctx = {
        "page": "campaigns",
        "cjm": cjm,
        "stage": stage,
        "channel": channel,
        "cell": cell,
        "form": form,
        "links": [{"link": lk, "target": targets[(lk.kind, lk.object_id)]} for lk in links],
        "link_form": LinkForm(),
    }
    status = 400 if form.errors else 200
    return render(request, "campaigns/planning/cjm_cell.html", ctx, status=status)


@staff_permission_required("manage_campaigns")
def cjm_cell_field(request, cjm_id: int, stage_id: int, channel: str, field: str):
    """One text of one cell, edited in place on the board (HTMX). GET gives the editor, POST
    saves and gives the cell back; without HTMX both lead to the cell's own page."""
    if field not in FIELD_LABELS:
        raise Http404("no such field")
    cjm, stage, cell = _cell_of(cjm_id, stage_id, channel)
    if not request.htmx:
        if request.method == "POST":
            cjm_cell_save(stage=stage, channel=channel, **{field: request.POST.get(field, "")})
            return redirect("campaigns:cjm", cjm_id=cjm.pk)
        return redirect("campaigns:cjm_cell", cjm_id=cjm.pk, stage_id=stage.pk, channel=channel)
    ctx = {
        "cjm": cjm,
        "stage": stage,
        "channel": channel,
        "field": field,
        "label": FIELD_LABELS[field],
        "can_edit": True,
    }
    if request.method == "POST" or request.GET.get("view"):
        if request.method == "POST":
            cell = cjm_cell_save(
                stage=stage, channel=channel, **{field: request.POST.get(field, "")}
            )
        if cell is None:
            cell = CjmCell(stage=stage, channel=channel)
        ctx["c"] = _cell_context(stage, cell, field)
        template = "campaigns/planning/_cell.html"
    else:
        ctx["text"] = getattr(cell, field) if cell else ""
        template = "campaigns/planning/_cell_editor.html"
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _cell_context(stage: CjmStage, cell: CjmCell, field: str) -> dict:
    links = list(cell.links.all()) if cell.pk and field == "solutions" else []
    targets = link_targets({(lk.kind, lk.object_id) for lk in links})
    return {
        "stage": stage,
        "text": getattr(cell, field),
        "links": [targets[(lk.kind, lk.object_id)] for lk in links],
    }


@require_POST
@staff_permission_required("manage_campaigns")
def cjm_link_add_view(request, cjm_id: int, stage_id: int, channel: str):
    cjm, stage, cell = _cell_of(cjm_id, stage_id, channel)
    form = LinkForm(request.POST)
    if form.is_valid():
        if cell is None:
            cell = cjm_cell_save(stage=stage, channel=channel)
        kind, object_id = form.cleaned_data["target"]
        try:
            cjm_link_add(cell=cell, kind=kind, object_id=object_id)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Link added."))
    else:
        messages.error(request, " ".join(form.errors.get("target", [])))
    return redirect("campaigns:cjm_cell", cjm_id=cjm.pk, stage_id=stage.pk, channel=channel)


@require_POST
@staff_permission_required("manage_campaigns")
def cjm_link_remove_view(request, cjm_id: int, link_id: int):
    link = get_object_or_404(
        CjmSolutionLink.objects.select_related("cell__stage"),
        pk=link_id,
        cell__stage__cjm_id=cjm_id,
    )
    cjm_link_remove(link=link)
    messages.success(request, _("Link removed."))
    stage, channel = link.cell.stage, link.cell.channel
    return redirect("campaigns:cjm_cell", cjm_id=cjm_id, stage_id=stage.pk, channel=channel)
