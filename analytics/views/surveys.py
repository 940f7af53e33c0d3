"""Survey pages: the list with each survey's score, new (from a kind's ready-made texts), edit,
archive or restore, and sending by hand. Results are in surveys_results.py."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from analytics.models.surveys import Survey, SurveySource
from analytics.surveys.definitions import survey_create, survey_update
from analytics.surveys.scores import survey_totals
from analytics.surveys.sending import survey_send_many
from analytics.views.surveys_format import row
from analytics.views.surveys_forms import SurveyForm, SurveySendForm
from workspace.paging import keyset_page
from workspace.permissions import staff_permission_required

# Sending by hand runs in the request; a larger audience belongs in a broadcast.
SEND_BY_HAND_MAX = 5000


@staff_permission_required("view_analytics")
def survey_list(request):
    archived = request.GET.get("archived") == "1"
    surveys, next_url = keyset_page(
        Survey.objects.filter(archived_at__isnull=not archived), request
    )
    totals = survey_totals(surveys)
    ctx = {
        "page": "analytics",
        "rows": [{"survey": s, **row(totals[s.pk])} for s in surveys],
        "archived": archived,
        "next_url": next_url,
        "is_next_page": bool(request.GET.get("before")),
    }
    return render(request, "analytics/surveys/list.html", ctx)


@staff_permission_required("manage_analytics")
def survey_new(request):
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = survey_create(
                data["kind"],
                data["name"],
                open_conversation_on_detractor=data["open_conversation_on_detractor"],
                **form.texts(),
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(request, _("Survey “%(name)s” created.") % {"name": survey.name})
            return redirect("analytics:survey", survey_id=survey.pk)
    ctx = {"page": "analytics", "form": form, "survey": None}
    return render(request, "analytics/surveys/form.html", ctx, status=400 if form.errors else 200)


@staff_permission_required("manage_analytics")
def survey_edit(request, survey_id: int):
    survey = get_object_or_404(Survey, pk=survey_id)
    form = SurveyForm(request.POST or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey_update(
                survey,
                name=data["name"],
                open_conversation_on_detractor=data["open_conversation_on_detractor"],
                **form.texts(),
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(request, _("Survey “%(name)s” saved.") % {"name": data["name"]})
            return redirect("analytics:survey", survey_id=survey.pk)
    ctx = {"page": "analytics", "form": form, "survey": survey}
    return render(request, "analytics/surveys/form.html", ctx, status=400 if form.errors else 200)


@require_POST
@staff_permission_required("manage_analytics")
def survey_archive(request, survey_id: int):
    """Archive (no more sends; answers and scores stay) or, with restore=1, bring it back."""
    survey = get_object_or_404(Survey, pk=survey_id)
    restore = request.POST.get("restore") == "1"
    survey_update(survey, archived=not restore)
    if restore:
        messages.success(request, _("Survey “%(name)s” restored.") % {"name": survey.name})
    else:
        messages.success(request, _("Survey “%(name)s” archived.") % {"name": survey.name})
    return redirect("analytics:survey", survey_id=survey.pk)


@staff_permission_required("manage_analytics")
def survey_send_page(request, survey_id: int):
    """Send to one customer or a segment. A hidden nonce makes a resubmitted form a no-op: it
    becomes the sends' idempotency key prefix."""
    survey = get_object_or_404(Survey, pk=survey_id)
    form = SurveySendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        nonce = request.POST.get("nonce", "")[:64] or secrets.token_urlsafe(16)
        customers = list(form.customers()[: SEND_BY_HAND_MAX + 1])
        if survey.archived_at is not None:
            form.add_error(None, _("This survey is archived; restore it to send it."))
        elif len(customers) > SEND_BY_HAND_MAX:
            form.add_error(
                "segment",
                _("More than %(n)s members: send it in a broadcast instead.")
                % {"n": SEND_BY_HAND_MAX},
            )
        else:
            try:
                with transaction.atomic():
                    sends = survey_send_many(
                        survey,
                        customers,
                        channel=form.cleaned_data["channel"] or None,
                        source=SurveySource.MANUAL,
                        idempotency_key_prefix=f"manual:{survey.pk}:{nonce}",
                    )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                _report(request, sends)
                return redirect("analytics:survey", survey_id=survey.pk)
    ctx = {
        "page": "analytics",
        "survey": survey,
        "form": form,
        "nonce": request.POST.get("nonce") or secrets.token_urlsafe(16),
    }
    return render(request, "analytics/surveys/send.html", ctx, status=400 if form.errors else 200)


def _report(request, sends) -> None:
    unsent = sum(1 for s in sends if s.state == "unsent")
    sent = len(sends) - unsent
    if sent:
        messages.success(
            request,
            ngettext(
                "The survey went to %(n)s customer.", "The survey went to %(n)s customers.", sent
            )
            % {"n": sent},
        )
    if unsent:
        messages.warning(
            request,
            ngettext(
                "%(n)s customer could not be sent to (no consent, no address or a cap); see "
                "Messages for the reason.",
                "%(n)s customers could not be sent to (no consent, no address or a cap); see "
                "Messages for the reasons.",
                unsent,
            )
            % {"n": unsent},
        )
    if not sends:
        messages.warning(request, _("The segment has no members to send to."))
