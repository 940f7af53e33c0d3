"""Broadcast actions, each a POST that redirects to the broadcast's page: launch, schedule, pause,
resume, cancel. A refused move (the status changed meanwhile, the time has passed) is a message
on the page, not an error page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.broadcasts.models import Broadcast
from campaigns.broadcasts.services.launch import (
    broadcast_cancel,
    broadcast_launch,
    broadcast_pause,
    broadcast_resume,
    broadcast_schedule,
)
from campaigns.broadcasts.services.setup import BroadcastError
from workspace.permissions import staff_permission_required


def _act(request, broadcast_id: int, service, done: str):
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    try:
        service(broadcast, actor=request.user)
    except BroadcastError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("campaigns:broadcast", broadcast_id=broadcast.pk)


@require_POST
@staff_permission_required("manage_campaigns")
def broadcast_launch_view(request, broadcast_id: int):
    return _act(request, broadcast_id, broadcast_launch, _("Launched: the audience is fixed."))


@require_POST
@staff_permission_required("manage_campaigns")
def broadcast_schedule_view(request, broadcast_id: int):
    return _act(request, broadcast_id, broadcast_schedule, _("Scheduled."))


@require_POST
@staff_permission_required("manage_campaigns")
def broadcast_pause_view(request, broadcast_id: int):
    return _act(request, broadcast_id, broadcast_pause, _("Paused. Nothing more goes out."))


@require_POST
@staff_permission_required("manage_campaigns")
def broadcast_resume_view(request, broadcast_id: int):
    return _act(request, broadcast_id, broadcast_resume, _("Resumed."))


@require_POST
@staff_permission_required("manage_campaigns")
def broadcast_cancel_view(request, broadcast_id: int):
    return _act(request, broadcast_id, broadcast_cancel, _("Cancelled."))
