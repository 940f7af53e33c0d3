"""What staff change from the customer page: consent (with a reason), notes, the GDPR export and
erase, and a message from the composer. Each is a POST, checks its own permission, and is audited
by its service (workspace/services/customers.py, channels/services/reachability.py)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from api.audit import client_ip
from channels.services.reachability import (
    AGENT_CHANNELS,
    SendRefused,
    agent_message_send,
    customer_reachable_channels,
)
from customers.models import Channel, ConsentStatus
from customers.selectors import customer_get
from workspace.permissions import staff_permission_required
from workspace.services.customers import (
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    customer_consent_change,
    customer_erase_by_staff,
    customer_export,
    customer_note_add,
)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    status = forms.ChoiceField(choices=ConsentStatus.choices)
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label=gettext_lazy("Reason"),
        error_messages={"required": gettext_lazy("Say why the consent changes.")},
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": gettext_lazy("Write the note first.")},
    )


class EraseForm(forms.Form):
    confirm = forms.CharField()
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, required=False)


class ComposerForm(forms.Form):
    channel = forms.ChoiceField(choices=[(c.value, c.label) for c in AGENT_CHANNELS])
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(max_length=4000, required=False)
    template = forms.CharField(max_length=200, required=False)
    params = forms.CharField(max_length=2000, required=False)


SEND_ERRORS = {
    "unreachable": gettext_lazy("This customer cannot be reached on that channel now."),
    "template_required": gettext_lazy(
        "Outside the 24-hour window only an approved template can be sent."
    ),
    "template_params": gettext_lazy("Fill in every parameter of the template."),
    "empty": gettext_lazy("Write a message."),
    "subject": gettext_lazy("An email needs a subject."),
}


def _back(customer, tab: str = "") -> str:
    url = reverse("workspace:customer", args=[customer.external_id])
    return f"{url}?tab={tab}" if tab else url


def _errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@staff_permission_required("change_consent")
def consent_change(request, external_id: str):
    customer = customer_get(external_id=external_id)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Consent not changed: %(errors)s") % {"errors": _errors(form)})
        return redirect(_back(customer))
    changed = customer_consent_change(
        customer=customer,
        channel=form.cleaned_data["channel"],
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
        actor=request.user,
        ip_address=client_ip(request),
    )
    if changed:
        messages.success(request, _("Consent changed."))
    else:
        messages.info(request, _("The consent already had that status; nothing changed."))
    return redirect(_back(customer))


@require_POST
@staff_permission_required("add_note")
def note_add(request, external_id: str):
    customer = customer_get(external_id=external_id)
    form = NoteForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["body"].strip():
        messages.error(request, _("Write the note first."))
        return redirect(_back(customer, "notes"))
    customer_note_add(
        customer=customer,
        body=form.cleaned_data["body"],
        actor=request.user,
        ip_address=client_ip(request),
    )
    messages.success(request, _("Note added."))
    return redirect(_back(customer, "notes"))


@require_POST
@staff_permission_required("export_customer")
def export(request, external_id: str):
    customer = customer_get(external_id=external_id)
    data = customer_export(customer=customer, actor=request.user, ip_address=client_ip(request))
    response = HttpResponse(data, content_type="application/json")
    safe_id = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in customer.external_id)
    response["Content-Disposition"] = f'attachment; filename="customer-{safe_id}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@staff_permission_required("erase_customer")
def erase(request, external_id: str):
    customer = customer_get(external_id=external_id)
    form = EraseForm(request.POST)
    if not form.is_valid() or form.cleaned_data["confirm"].strip() != customer.external_id:
        messages.error(
            request,
            _("Not erased: type the customer id %(id)s exactly to confirm.")
            % {"id": customer.external_id},
        )
        return redirect(_back(customer))
    customer_erase_by_staff(
        customer=customer,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        ip_address=client_ip(request),
    )
    messages.success(request, _("The customer's personal data was erased."))
    return redirect("workspace:customers")


@require_POST
@staff_permission_required("reply")
def send(request, external_id: str):
    customer = customer_get(external_id=external_id)
    form = ComposerForm(request.POST)
    error = ""
    message = None
    if not form.is_valid():
        error = _("Choose a channel and write a message.")
    else:
        data = form.cleaned_data
        try:
            message = agent_message_send(
                customer=customer,
                channel=data["channel"],
                body=data["body"],
                subject=data["subject"],
                template=data["template"],
                template_params=[p for p in data["params"].splitlines()],
                actor=request.user,
                ip_address=client_ip(request),
            )
        except SendRefused as exc:
            error = SEND_ERRORS.get(exc.code, SEND_ERRORS["unreachable"])
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Message queued."))
        return redirect(_back(customer))
    # With htmx the composer is swapped in place (cleared after a send); the timeline's head
    # poll brings the new message within 2 s.
    reach = customer_reachable_channels(customer)
    ctx = {
        "customer": customer,
        "reach": reach,
        "reachable": [r for r in reach if r.reachable],
        "composer_error": error,
        "composer_sent": message,
        "composer_data": form.data if error else {},
    }
    return render(request, "workspace/customers/_composer.html", ctx)
